import { describeCounts } from "../protocol/messages.ts";
import { releaseText } from "../protocol/protocol-version.ts";
import type { AgentResource, JobResource } from "../protocol/resources.ts";
import { formatBytes } from "../protocol/sizes.ts";

/** Plain-text tables and summaries for people; `--json` prints the API's resources instead. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, index) =>
    Math.max(header.length, ...rows.map((row) => (row[index] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function countsText(job: JobResource): string {
  return describeCounts(job.counts);
}

export function durationText(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes}m${Math.round(seconds % 60)}s`
    : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

export function jobsTable(jobs: JobResource[]): string {
  return table(
    ["ID", "SUITE", "STATUS", "AGENT", "TESTS", "PEAK", "DURATION", "CREATED"],
    jobs.map((job) => [
      String(job.id),
      job.suite,
      job.status,
      job.agent ?? "-",
      countsText(job),
      formatBytes(job.peakRssBytes),
      durationText(job.durationSeconds),
      job.createdAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    ]),
  );
}

export function jobDetails(job: JobResource, dashboardUrl: string): string {
  const rows: [string, string][] = [
    ["Job", `${job.id} (${dashboardUrl}/jobs/${job.id})`],
    ["Suite", job.suite],
    ["Status", job.status],
    ...(job.heldReason && job.status === "queued" ? [["Waiting", job.heldReason] as [string, string]] : []),
    ...(job.error ? [["Reason", job.error] as [string, string]] : []),
    ["Interpreter", job.python ?? "-"],
    ...(job.ref
      ? [["Ref", `${job.ref}${job.commit ? ` at ${job.commit.slice(0, 12)}` : ""}`] as [string, string]]
      : []),
    ["Python", job.pythonVersion ?? "-"],
    ["Memory limit", formatBytes(job.memlimitBytes)],
    ["Workers", String(job.workers)],
    ["Reservation", formatBytes(job.reservationBytes)],
    ["Peak memory", formatBytes(job.peakRssBytes)],
    ["Tests", countsText(job)],
    ["Failed tests", job.failedTests.length > 0 ? job.failedTests.join(", ") : "-"],
    ["Agent", job.agent ?? "-"],
    ["Exit code", job.exitCode === null ? "-" : `${job.exitCode}${job.signal ? ` (${job.signal})` : ""}`],
    ["Created", job.createdAt],
    ["Started", job.startedAt ?? "-"],
    ["Finished", job.finishedAt ?? "-"],
    ["Duration", durationText(job.durationSeconds)],
    [
      "Attempts",
      job.attempts.map((attempt) => `${attempt.id} on ${attempt.agent}: ${attempt.status}`).join("; ") || "-",
    ],
    ["Requested by", `${job.provenance.requester} (${job.provenance.source})`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}

export function agentsTable(agents: AgentResource[]): string {
  return table(
    [
      "NAME",
      "STATE",
      "VERSION",
      "ARCH",
      "CORES",
      "MEMORY",
      "RESERVED/CAPACITY",
      "USED",
      "JOBS",
      "LAST HEARTBEAT",
    ],
    agents.map((agent) => [
      agent.name,
      agent.state,
      releaseText(agent.version),
      agent.arch,
      String(agent.cores),
      formatBytes(agent.memoryBytes),
      `${formatBytes(agent.reservedBytes)} / ${formatBytes(agent.capacityBytes)}`,
      formatBytes(agent.usedBytes),
      agent.runningJobs.join(",") || "-",
      agent.lastHeartbeatAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    ]),
  );
}

/** The one line printed when a followed job ends. */
export function finalLine(job: JobResource): string {
  const parts = [
    `job ${job.id} ${job.status}`,
    `duration ${durationText(job.durationSeconds)}`,
    `peak ${formatBytes(job.peakRssBytes)}`,
  ];
  if (job.counts) parts.push(`tests ${countsText(job)}`);
  if (job.failedTests.length > 0) parts.push(`failed: ${job.failedTests.join(", ")}`);
  if (job.error) parts.push(job.error);
  return parts.join("; ");
}
