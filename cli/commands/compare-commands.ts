import { parseJobId } from "../../protocol/ids.ts";
import { peakMeasureShort } from "../../protocol/peak-measure-text.ts";
import type { ComparedJob, ComparedTest, JobComparison, TestResource } from "../../protocol/resources.ts";
import { formatBytes } from "../../protocol/sizes.ts";
import { CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { createClient } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { durationText, table } from "../format.ts";
import { GLOBAL_OPTIONS, parseCommand } from "../parse.ts";

/** `memfarm tests --sort` and the API's `sort` it asks for: sizes and times largest first, names A to Z. */
const SORTS: Record<string, string> = { peak: "-peak", duration: "-duration", name: "name" };

function jobIds(command: string, positionals: string[], count: number): number[] {
  const usage =
    count === 2
      ? `"memfarm compare BASE_JOB HEAD_JOB", like "memfarm compare 41 42"`
      : `"memfarm ${command} 42"`;
  if (positionals.length !== count) {
    throw new CliError(
      `memfarm ${command} needs ${count === 2 ? "two job ids" : "a job id"}: ${usage} ("memfarm jobs" lists them)`,
      ExitCode.usage,
    );
  }
  return positionals.map((text, index) =>
    parseJobId(text, count === 2 ? ["BASE_JOB", "HEAD_JOB"][index] : "JOB"),
  );
}

export async function compareCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("compare", context.args, GLOBAL_OPTIONS);
  const [base, head] = jobIds("compare", positionals, 2) as [number, number];
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const comparison = await client.get<JobComparison>(`/compare?base=${base}&head=${head}`);
  if (values.json) {
    context.stdout(`${JSON.stringify(comparison)}\n`);
    return ExitCode.ok;
  }
  context.stdout(`${comparisonText(comparison, client.baseUrl)}\n`);
  return ExitCode.ok;
}

export async function testsCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("tests", context.args, {
    ...GLOBAL_OPTIONS,
    sort: { type: "string" },
  });
  const [id] = jobIds("tests", positionals, 1) as [number];
  const sort = SORTS[values.sort ?? "peak"];
  if (sort === undefined) {
    throw new CliError(
      `--sort must be one of ${Object.keys(SORTS).join(", ")}, not "${values.sort}"`,
      ExitCode.usage,
    );
  }
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const body = await client.get<{ jobId: number; tests: TestResource[] }>(`/jobs/${id}/tests?sort=${sort}`);
  if (values.json) context.stdout(`${JSON.stringify(body)}\n`);
  else if (body.tests.length === 0) context.stdout(`job ${id} has no test results (yet)\n`);
  else
    context.stdout(
      `${table(
        ["TEST", "KIND", "OUTCOME", "PEAK", "MEASURED BY", "DURATION"],
        body.tests.map((test) => [
          test.name,
          test.kind,
          test.outcome,
          formatBytes(test.peakRssBytes),
          test.peakRssBytes === null ? "-" : peakMeasureShort(test.peakMeasuredBy),
          durationText(test.durationSeconds),
        ]),
      )}\n`,
    );
  return ExitCode.ok;
}

function comparisonText({ base, head, tests }: JobComparison, dashboardUrl: string): string {
  const header = table(
    ["", "JOB", "SUITE", "STATUS", "REF", "COMMIT", "PYTHON", "PEAK"],
    [
      ["base", ...jobCells(base)],
      ["head", ...jobCells(head)],
    ],
  );
  const rows =
    tests.length === 0
      ? "neither job has test results (yet)"
      : table(
          ["TEST", "KIND", "BASE", "HEAD", "CHANGE", "RELATIVE", "OUTCOME"],
          tests.map((test) => [
            test.name,
            test.kind,
            formatBytes(test.basePeakBytes),
            formatBytes(test.headPeakBytes),
            signedBytes(test.deltaBytes),
            test.growth === null ? "-" : `${test.growth >= 0 ? "+" : ""}${(test.growth * 100).toFixed(1)}%`,
            outcomeChange(test),
          ]),
        );
  return `${header}\n\n${rows}\n\n${dashboardUrl}/compare?base=${base.id}&head=${head.id}`;
}

function jobCells(job: ComparedJob): string[] {
  return [
    String(job.id),
    job.suite,
    job.status,
    job.ref ?? "-",
    job.commit ? job.commit.slice(0, 12) : "-",
    // A given interpreter's path says where it is; its version says what it is.
    [job.pythonVersion, job.ref === null ? job.python : null].filter(Boolean).join(" ") || "-",
    formatBytes(job.peakRssBytes),
  ];
}

function signedBytes(bytes: number | null): string {
  if (bytes === null) return "-";
  if (bytes === 0) return "0 B";
  return `${bytes > 0 ? "+" : "-"}${formatBytes(Math.abs(bytes))}`;
}

/** `passed`, or `passed → failed` when the outcome changed; a side the test did not run on shows `-`. */
function outcomeChange(test: ComparedTest): string {
  if (test.baseOutcome === test.headOutcome) return test.headOutcome ?? "-";
  return `${test.baseOutcome ?? "-"} → ${test.headOutcome ?? "-"}`;
}
