import { quoted, ValidationError } from "./errors.ts";

/** A daily window in UTC, in minutes after midnight; `from > to` wraps midnight (22:00–08:00). */
export interface DailyWindow {
  fromMinute: number;
  toMinute: number;
}

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/** Parses `22:00-08:00,12:00-13:00` (UTC) into windows; the message says what to write instead. */
export function parseWindows(text: string, field = "no-new-jobs"): DailyWindow[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const match = WINDOW.exec(part);
      if (!match) {
        throw new ValidationError(
          "invalid_window",
          `${field}: ${quoted(part)} is not a window; write HH:MM-HH:MM in UTC, like 22:00-08:00`,
          field,
        );
      }
      const [, fromHour, fromMinute, toHour, toMinute] = match.map(Number) as number[];
      const window = {
        fromMinute: (fromHour ?? 0) * 60 + (fromMinute ?? 0),
        toMinute: (toHour ?? 0) * 60 + (toMinute ?? 0),
      };
      if (window.fromMinute === window.toMinute) {
        throw new ValidationError("invalid_window", `${field}: ${quoted(part)} is empty`, field);
      }
      return window;
    });
}

export function formatWindow(window: DailyWindow): string {
  const hhmm = (minute: number) =>
    `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
  return `${hhmm(window.fromMinute)}–${hhmm(window.toMinute)} UTC`;
}
