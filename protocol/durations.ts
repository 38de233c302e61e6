import { quoted, ValidationError } from "./errors.ts";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A decimal amount: `15`, `2.5`, `.5` (what the flags read with Number() took, less exponents and hex). */
const AMOUNT = String.raw`(?:\d+(?:\.\d*)?|\.\d+)`;
const PLAIN = new RegExp(`^${AMOUNT}$`);
/** `ms` before `m`, so `500ms` is half a second, not 500 minutes and a stray `s`. */
const PART = new RegExp(`(${AMOUNT})(ms|s|m|h|d)`, "g");
const WITH_UNITS = new RegExp(`^(?:${AMOUNT}(?:ms|s|m|h|d))+$`);

export interface DurationRule {
  /** What a bare number counts: seconds (`--lost-after 15`, the default) or milliseconds (`--sample-interval-ms 200`). */
  plainUnit?: "s" | "ms";
  /** Bounds, in milliseconds, each inclusive. */
  minMs?: number;
  maxMs?: number;
}

/**
 * Parses a duration flag into milliseconds: a bare number (seconds, unless the
 * rule says milliseconds) or amounts with units ms, s, m, h and d, one after
 * the other (`90s`, `15m`, `2h`, `1h30m`, `1.5d`). `field` names the flag in
 * the error, which says what to write instead.
 */
export function parseDuration(text: string, field: string, rule: DurationRule = {}): number {
  const trimmed = text.trim();
  const plainUnit = rule.plainUnit ?? "s";
  let ms: number;
  if (PLAIN.test(trimmed)) {
    ms = Number(trimmed) * (UNIT_MS[plainUnit] ?? 1);
  } else if (WITH_UNITS.test(trimmed)) {
    ms = 0;
    for (const [, amount = "", unit = ""] of trimmed.matchAll(PART))
      ms += Number(amount) * (UNIT_MS[unit] ?? 0);
  } else {
    const plain = plainUnit === "s" ? "seconds (90)" : "milliseconds (200)";
    throw new ValidationError(
      "invalid_duration",
      `${field}: ${quoted(text)} is not a duration; write ${plain} or a number with a unit ms, s, m, h or d (90s, 15m, 2h, 1h30m)`,
      field,
    );
  }
  ms = Math.round(ms);
  const { minMs = 0, maxMs = Number.MAX_SAFE_INTEGER } = rule;
  if (ms < minMs || ms > maxMs) {
    const range =
      rule.maxMs === undefined
        ? `at least ${durationText(minMs)}`
        : `from ${durationText(minMs)} to ${durationText(maxMs)}`;
    throw new ValidationError(
      "invalid_duration",
      `${field}: ${quoted(text)} is ${durationText(ms)}; it must be ${range}`,
      field,
    );
  }
  return ms;
}

/** A duration the way parseDuration reads it, in whole units from the largest down: `1h30m`, `4s`, `250ms`, `0s`. */
export function durationText(ms: number): string {
  if (ms === 0) return "0s";
  let left = Math.round(ms);
  let text = "";
  for (const [unit, size] of Object.entries(UNIT_MS).sort(([, a], [, b]) => b - a)) {
    if (left >= size) {
      text += `${Math.floor(left / size)}${unit}`;
      left %= size;
    }
  }
  return text;
}
