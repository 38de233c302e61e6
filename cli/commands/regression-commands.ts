import type { RegressionResource } from "../../protocol/resources.ts";
import { formatBytes, formatGrowth } from "../../protocol/sizes.ts";
import { CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { createClient } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { table } from "../format.ts";
import { GLOBAL_OPTIONS, parseCommand } from "../parse.ts";

const short = (sha: string | null) => (sha ? sha.slice(0, 12) : "?");

/** What got worse, in one line: `peak 2.0 GiB → 2.6 GiB (+31 %)` or `passed → failed`. */
export function regressionChange(regression: RegressionResource): string {
  if (regression.kind === "outcome")
    return `${regression.goodOutcome ?? "?"} → ${regression.badOutcome ?? "?"}`;
  return `peak ${formatGrowth(regression.baseBytes ?? 0, regression.newBytes ?? 0)}`;
}

/** One regression and its bisection, for `memfarm regressions show ID`. */
function regressionDetails(regression: RegressionResource): string {
  const lines = [
    `regression ${regression.id}: ${regression.test} in watch ${regression.watch}, ${regressionChange(regression)}`,
    `  last good ${short(regression.goodCommit)} (job ${regression.goodJobId}), first bad ${short(regression.badCommit)} (job ${regression.badJobId})`,
    `  ${regression.closedAt ? `closed: ${regression.closedWhy ?? ""}` : "open"}`,
  ];
  const bisection = regression.bisection;
  if (!bisection) return [...lines, "  no bisection"].join("\n");
  lines.push(
    `bisection: ${bisection.state}, ${bisection.commits.length} commits, ${bisection.rounds} rounds, ${bisection.probes.length} jobs`,
  );
  if (bisection.culprit) {
    lines.push(
      `  culprit ${bisection.culprit.sha} "${bisection.culprit.subject}" by ${bisection.culprit.author}`,
    );
  }
  if (bisection.summary) lines.push(`  ${bisection.summary}`);
  if (bisection.commentUrl) lines.push(`  told on its pull request: ${bisection.commentUrl}`);
  lines.push(
    "",
    table(
      ["ROUND", "COMMIT", "WHY", "JOB", "PEAK", "OUTCOME", "VERDICT"],
      bisection.probes.map((probe) => [
        String(probe.round),
        short(probe.sha),
        probe.purpose,
        String(probe.jobId),
        probe.peakBytes === null ? "-" : formatBytes(probe.peakBytes),
        probe.outcome ?? "-",
        probe.verdict ?? "running",
      ]),
    ),
  );
  return lines.join("\n");
}

/** `memfarm regressions [--all] [--watch NAME]`, `memfarm regressions show|close ID`. */
export async function regressionsCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("regressions", context.args, {
    ...GLOBAL_OPTIONS,
    all: { type: "boolean" },
    watch: { type: "string" },
  });
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const [action = "list", id] = positionals;
  if (action === "close") {
    if (!id)
      throw new CliError(
        'memfarm regressions close needs an id, like "memfarm regressions close 3"',
        ExitCode.usage,
      );
    const closed = await client.post<RegressionResource>(`/regressions/${encodeURIComponent(id)}/close`);
    context.stdout(values.json ? `${JSON.stringify(closed)}\n` : `regression ${closed.id} closed\n`);
    return ExitCode.ok;
  }
  if (action === "show") {
    if (!id)
      throw new CliError(
        'memfarm regressions show needs an id, like "memfarm regressions show 3"',
        ExitCode.usage,
      );
    const regression = await client.get<RegressionResource>(`/regressions/${encodeURIComponent(id)}`);
    context.stdout(values.json ? `${JSON.stringify(regression)}\n` : `${regressionDetails(regression)}\n`);
    return ExitCode.ok;
  }
  if (action !== "list") {
    throw new CliError(
      `unknown regressions action "${action}"; see "memfarm regressions --help"`,
      ExitCode.usage,
    );
  }
  const query = new URLSearchParams({
    state: values.all ? "all" : "open",
    ...(values.watch ? { watch: values.watch } : {}),
  });
  const { regressions } = await client.get<{ regressions: RegressionResource[] }>(`/regressions?${query}`);
  if (values.json) {
    context.stdout(`${JSON.stringify({ regressions })}\n`);
    return ExitCode.ok;
  }
  context.stdout(
    `${table(
      ["ID", "WATCH", "TEST", "CHANGE", "GOOD", "BAD", "STATE"],
      regressions.map((regression) => [
        String(regression.id),
        regression.watch,
        regression.test,
        regressionChange(regression),
        `${short(regression.goodCommit)} (job ${regression.goodJobId})`,
        `${short(regression.badCommit)} (job ${regression.badJobId})`,
        regression.closedAt ? `closed: ${regression.closedWhy ?? ""}` : "open",
      ]),
    )}\n`,
  );
  return ExitCode.ok;
}
