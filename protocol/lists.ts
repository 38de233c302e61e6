/** Splits `a,b, c` into `["a", "b", "c"]`, dropping empty items. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}
