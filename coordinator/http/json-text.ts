/**
 * A response body that is JSON text already (a big answer SQLite wrote, see
 * coordinator/store/watch-history-store.ts): `adapt` sends it as it is instead of serializing it.
 */
export class JsonText {
  constructor(
    readonly text: string | Buffer,
    /** Sent as the ETag when given, so express need not hash the body to make one. */
    readonly etag?: string,
  ) {}
}

/**
 * `fields` as a JSON object with one more member, `name`, after them, whose value `json` is JSON
 * bytes already (copied once, not parsed), sent with `etag`.
 */
export function jsonObjectWith(
  fields: Record<string, unknown>,
  name: string,
  json: Buffer,
  etag: string,
): JsonText {
  const head = JSON.stringify(fields).slice(0, -1);
  const opening = `${head}${head === "{" ? "" : ","}${JSON.stringify(name)}:`;
  return new JsonText(Buffer.concat([Buffer.from(opening), json, Buffer.from("}")]), etag);
}
