import { quoted, ValidationError } from "./errors.ts";

const UNITS: Record<string, number> = {
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/** regrtest's own memlimit syntax (Lib/test/support/__init__.py set_memlimit). */
const REGRTEST_SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt])b?$/i;
const PLAIN_BYTES = /^\d+$/;

/** regrtest refuses a memlimit below this (it raises ValueError per test file). */
export const MIN_MEMLIMIT_BYTES = 2 * 1024 ** 3;

/** Parses `60g`, `2.5Gb`, `512M` (binary units, as regrtest reads them) or plain bytes. */
export function parseSize(text: string, field: string): number {
  const trimmed = text.trim();
  if (PLAIN_BYTES.test(trimmed)) {
    const bytes = Number(trimmed);
    if (Number.isSafeInteger(bytes)) return bytes;
  }
  const match = REGRTEST_SIZE.exec(trimmed);
  if (!match) {
    throw new ValidationError(
      "invalid_size",
      `${field}: ${quoted(text)} is not a size; write a number with a unit K, M, G or T (binary: 60g, 2.5Gb, 512M) or plain bytes`,
      field,
    );
  }
  const [, amount = "", unit = ""] = match;
  return Math.floor(Number(amount) * (UNITS[unit.toLowerCase()] ?? 1));
}

/** A memlimit regrtest would accept: a size of at least 2 GiB. */
export function parseMemlimit(text: string, field = "memlimit"): number {
  const bytes = parseSize(text, field);
  if (bytes < MIN_MEMLIMIT_BYTES) {
    throw new ValidationError(
      "memlimit_too_small",
      `${field}: ${quoted(text)} is ${formatBytes(bytes)}; regrtest refuses a memlimit under 2 GiB, ask for 2G or more`,
      field,
    );
  }
  return bytes;
}

/** The `-M` argument for regrtest: the largest whole unit that states the size exactly. */
export function memlimitArgument(bytes: number): string {
  for (const [unit, scale] of [
    ["T", UNITS.t],
    ["G", UNITS.g],
    ["M", UNITS.m],
  ] as const) {
    if (scale !== undefined && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return `${Math.floor(bytes / 1024)}K`;
}

/** Human-readable binary size, e.g. `2.0 GiB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let index = 0;
  while (value >= 1024 && index < units.length - 1) {
    value /= 1024;
    index += 1;
  }
  return index === 0 ? `${value} B` : `${value.toFixed(1)} ${units[index]}`;
}

/** How a size changed, in words: `2.0 GiB → 2.6 GiB (+31 %)`; "" when either side is unknown. */
export function formatGrowth(before: number | null | undefined, after: number | null | undefined): string {
  if (before === null || before === undefined || after === null || after === undefined) return "";
  const percent = before > 0 ? ` (+${Math.round(((after - before) / before) * 100)} %)` : "";
  return `${formatBytes(before)} → ${formatBytes(after)}${percent}`;
}
