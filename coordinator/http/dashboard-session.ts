import type { NextFunction, Request, Response } from "express";
import type { SessionsStore } from "../store/sessions-store.ts";
import { SESSION_LIFETIME_MS } from "../store/sessions-store.ts";

export const SESSION_COOKIE = "memfarm_session";

/** The value of one cookie from the Cookie header, or null. */
export function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** Who is signed in on this request, or null: looked up once per request. */
export function signedInOwner(req: Request, sessions: SessionsStore): string | null {
  const id = readCookie(req.get("cookie"), SESSION_COOKIE);
  return id && /^[A-Za-z0-9_-]{20,100}$/.test(id) ? sessions.ownerOf(id) : null;
}

/**
 * The cookie that carries a session id: HttpOnly (scripts cannot read it),
 * SameSite=Strict (no other site's page can send it), Secure over https.
 */
export function sessionCookie(req: Request, value: string | null): string {
  const attributes = ["Path=/", "HttpOnly", "SameSite=Strict"];
  if (req.secure) attributes.push("Secure");
  attributes.push(value === null ? "Max-Age=0" : `Max-Age=${Math.floor(SESSION_LIFETIME_MS / 1000)}`);
  return `${SESSION_COOKIE}=${value ?? ""}; ${attributes.join("; ")}`;
}

/**
 * Refuses a form post that did not come from a page of this dashboard: its
 * Origin (or, when a browser sends none, its Referer) must be this host.
 * SameSite=Strict already keeps the cookie off cross-site posts; this is the
 * second lock (CSRF), and it also covers sign-in, which has no cookie yet.
 */
export function isSameOrigin(req: Request): boolean {
  const host = req.get("host");
  if (!host) return false;
  const expected = `${req.protocol}://${host}`;
  const origin = req.get("origin");
  if (origin !== undefined && origin !== "null") return origin === expected;
  const referer = req.get("referer");
  if (referer === undefined) return false;
  try {
    return new URL(referer).origin === expected;
  } catch {
    return false;
  }
}

/** Puts the signed-in owner (or null) where the templates and form handlers find it. */
export function sessionMiddleware(sessions: SessionsStore) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.locals.signedInAs = signedInOwner(req, sessions);
    next();
  };
}
