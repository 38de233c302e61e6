import { isFinalStatus } from "../../protocol/job-status.ts";
import { describeCounts } from "../../protocol/messages.ts";
import { peakMeasureLong, peakMeasureShort } from "../../protocol/peak-measure-text.ts";
import { releaseText } from "../../protocol/protocol-version.ts";
import { formatBytes } from "../../protocol/sizes.ts";
import { formatDuration } from "../dashboard/format-duration.ts";

/** Formatting helpers the templates use; views get plain data and these. */
export const fmt = {
  bytes: formatBytes,
  duration: formatDuration,
  time(iso: string | null | undefined): string {
    return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, " UTC") : "-";
  },
  /** The time of day of a log line, as the log shows it: 14:03:27 (UTC, like every time on the pages). */
  clock(iso: string | undefined): string {
    return iso ? iso.slice(11, 19) : "";
  },
  percent(ratio: number | null): string {
    if (ratio === null) return "-";
    const value = Math.round(ratio * 1000) / 10;
    return `${value > 0 ? "+" : ""}${value.toFixed(1)} %`;
  },
  /** A change in bytes with its sign: +12.0 MiB, -1.5 GiB, 0 B. */
  signedBytes(delta: number | null): string {
    if (delta === null) return "-";
    return `${delta > 0 ? "+" : delta < 0 ? "-" : ""}${formatBytes(Math.abs(delta))}`;
  },
  counts: describeCounts,
  /** How a test's peak was measured: a short cell text, and the sentence for its title. */
  peakMeasure: peakMeasureShort,
  peakMeasureNote: peakMeasureLong,
  agentVersion: (agent: { version: string | null }) => releaseText(agent.version),
  /** Whether a job has ended (it can be run again, not canceled). */
  ended: (status: string) => isFinalStatus(status),
};

/** JSON for a `<script type="application/json">` block: `<`, `>` and `&` escaped so no tag can close it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}
