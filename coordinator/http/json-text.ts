/**
 * A response body that is JSON text already (a big answer SQLite wrote, see
 * coordinator/store/watch-history-store.ts): `adapt` sends it as it is instead of serializing it.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** `fields` as a JSON object, with `raw`'s members after them, each value JSON text already. */
export function jsonObjectWith(fields: Record<string, unknown>, raw: Record<string, string>): JsonText {
  const head = JSON.stringify(fields).slice(1, -1);
  const tail = Object.entries(raw).map(([key, json]) => `${JSON.stringify(key)}:${json}`);
  return new JsonText(`{${[...(head === "" ? [] : [head]), ...tail].join(",")}}`);
}
