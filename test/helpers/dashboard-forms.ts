import assert from "node:assert/strict";
import type { TestFarm } from "./farm.ts";

/** A form post as a browser sends it; `origin: null` leaves out both Origin and Referer. */
export function postForm(
  farm: TestFarm,
  path: string,
  fields: Record<string, string>,
  options: { cookie?: string; origin?: string | null } = {},
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  const origin = options.origin === undefined ? farm.url : options.origin;
  if (origin !== null) headers.origin = origin;
  if (options.cookie) headers.cookie = options.cookie;
  return fetch(`${farm.url}${path}`, {
    method: "POST",
    headers,
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}

/** A dashboard page as HTML, with the session cookie when given. */
export async function page(
  farm: TestFarm,
  path: string,
  cookie?: string,
): Promise<{ status: number; html: string }> {
  const response = await fetch(`${farm.url}${path}`, { headers: cookie ? { cookie } : {} });
  return { status: response.status, html: await response.text() };
}

/** Signs in with an API token and returns the session cookie (`name=value`). */
export async function signIn(farm: TestFarm, token: string): Promise<string> {
  const response = await postForm(farm, "/sign-in", { token });
  assert.equal(response.status, 303);
  const setCookie = response.headers.get("set-cookie") ?? "";
  return setCookie.split(";")[0] as string;
}
