import type { NextFunction, Request, Response } from "express";
import { isSameOrigin } from "./dashboard-session.ts";
import { fmt, jsonForScript } from "./view-format.ts";

/** A page that says why a form post was not done (and that nothing changed). */
export function renderRefusal(res: Response, status: number, heading: string, message: string): void {
  res.status(status).render("error", { fmt, jsonForScript, heading, message });
}

/** Every form post must come from this dashboard's own pages (CSRF). */
export function requireSameOrigin(req: Request, res: Response, next: NextFunction): void {
  if (isSameOrigin(req)) {
    next();
    return;
  }
  renderRefusal(
    res,
    403,
    "Refused",
    "This form was not sent from a page of this dashboard (its Origin or Referer is another site, or missing), so nothing was changed.",
  );
}

/** Changing the farm needs a signed-in person; the pages hide these forms otherwise. */
export function requireSession(_req: Request, res: Response, next: NextFunction): void {
  if (res.locals.signedInAs) {
    next();
    return;
  }
  renderRefusal(
    res,
    401,
    "Sign in first",
    "Changing the farm needs a signed-in user: sign in with an API token.",
  );
}

/** A form field as sent, or "" when missing; a browser sends each at most once here. */
export function rawField(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" ? value : "";
}

/** A form field without surrounding blanks. */
export function field(req: Request, name: string): string {
  return rawField(req, name).trim();
}
