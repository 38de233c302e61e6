import type { ValidationError } from "../../protocol/errors.ts";
import { parseJobId } from "../../protocol/ids.ts";
import { parseLabels } from "../../protocol/names.ts";
import type { JobResource, LogArchiveResource, LogLineResource } from "../../protocol/resources.ts";
import { parseMemlimit } from "../../protocol/sizes.ts";
import { CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { createClient } from "../context.ts";
import { ExitCode, exitCodeForStatus } from "../exit-codes.ts";
import { followWithOutput } from "../follow-output.ts";
import { finalLine, jobDetails, jobsTable } from "../format.ts";
import { GLOBAL_OPTIONS, parseCommand } from "../parse.ts";

function jobIdArgument(command: string, positionals: string[]): number {
  const text = positionals[0];
  if (!text) {
    throw new CliError(
      `memfarm ${command} needs a job id, like "memfarm ${command} 42" ("memfarm jobs" lists them)`,
      ExitCode.usage,
    );
  }
  return parseJobId(text, "JOB");
}

function printLine(context: CommandContext) {
  return (line: LogLineResource) => {
    (line.stream === "stderr" ? context.stderr : context.stdout)(`${line.text}\n`);
  };
}

export async function submitCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("submit", context.args, {
    ...GLOBAL_OPTIONS,
    python: { type: "string" },
    ref: { type: "string" },
    repo: { type: "string" },
    memlimit: { type: "string" },
    workers: { type: "string" },
    tests: { type: "string" },
    priority: { type: "string" },
    label: { type: "string", multiple: true },
    follow: { type: "boolean", short: "f" },
    exclusive: { type: "boolean" },
  });
  const suite = positionals[0];
  if (!suite)
    throw new CliError(
      'memfarm submit needs a suite, like "memfarm submit bigmem-smoke --python /usr/bin/python3"',
      ExitCode.usage,
    );
  // A bad size is refused here too, so the message comes before any token or network trouble.
  if (values.memlimit !== undefined) parseMemlimit(values.memlimit, "--memlimit");
  let labels: Record<string, string> = {};
  try {
    labels = parseLabels((values.label ?? []).join(","), "--label");
  } catch (thrown) {
    throw new CliError((thrown as ValidationError).message, ExitCode.usage);
  }
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const job = await client.post<JobResource>("/jobs", {
    suite,
    python: values.python,
    ref: values.ref,
    repo: values.repo,
    memlimit: values.memlimit,
    workers: values.workers,
    tests: values.tests
      ?.split(",")
      .map((name) => name.trim())
      .filter(Boolean),
    priority: values.priority,
    labels,
    exclusive: values.exclusive,
    source: "cli",
  });
  if (!values.follow) {
    context.stdout(
      values.json ? `${JSON.stringify(job)}\n` : `job ${job.id} queued: ${client.baseUrl}/jobs/${job.id}\n`,
    );
    return ExitCode.ok;
  }
  if (!values.json) context.stderr(`job ${job.id} queued: ${client.baseUrl}/jobs/${job.id}\n`);
  const final = await followWithOutput(context, client, job.id, { quiet: values.json });
  context.stdout(values.json ? `${JSON.stringify(final)}\n` : `${finalLine(final)}\n`);
  return exitCodeForStatus(final.status);
}

export async function jobsCommand(context: CommandContext): Promise<number> {
  const { values } = parseCommand("jobs", context.args, {
    ...GLOBAL_OPTIONS,
    status: { type: "string" },
    suite: { type: "string" },
    limit: { type: "string" },
    cursor: { type: "string" },
    ref: { type: "string" },
    pr: { type: "string" },
    repo: { type: "string" },
    host: { type: "string" },
  });
  const query = new URLSearchParams();
  // The CLI's names for the API's filters: a host is where the job ran (its agent).
  const params = { status: "status", suite: "suite", limit: "limit", cursor: "cursor", ref: "ref", pr: "pr" };
  for (const [option, param] of Object.entries(params)) {
    const value = values[option as keyof typeof params];
    if (value) query.set(param, value);
  }
  if (values.repo) query.set("repository", values.repo);
  if (values.host) query.set("agent", values.host);
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const page = await client.get<{ jobs: JobResource[]; nextCursor: string | null }>(`/jobs?${query}`);
  if (values.json) context.stdout(`${JSON.stringify(page)}\n`);
  else if (page.jobs.length === 0) context.stdout("no jobs\n");
  else
    context.stdout(
      `${jobsTable(page.jobs)}\n${page.nextCursor ? `(more: --cursor ${page.nextCursor})\n` : ""}`,
    );
  return ExitCode.ok;
}

export async function showCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("show", context.args, GLOBAL_OPTIONS);
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const job = await client.get<JobResource>(`/jobs/${jobIdArgument("show", positionals)}`);
  context.stdout(values.json ? `${JSON.stringify(job)}\n` : `${jobDetails(job, client.baseUrl)}\n`);
  return ExitCode.ok;
}

export async function logsCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("logs", context.args, {
    ...GLOBAL_OPTIONS,
    follow: { type: "boolean", short: "f" },
  });
  const id = jobIdArgument("logs", positionals);
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  if (values.follow) {
    const final = await followWithOutput(context, client, id, { quiet: values.json });
    if (values.json) context.stdout(`${JSON.stringify(final)}\n`);
    else context.stderr(`${finalLine(final)}\n`);
    return exitCodeForStatus(final.status);
  }
  const { lines, archived } = await client.get<{
    lines: LogLineResource[];
    archived?: LogArchiveResource | null;
  }>(`/jobs/${id}/log`);
  if (values.json) context.stdout(`${JSON.stringify({ jobId: id, lines })}\n`);
  else for (const line of lines) printLine(context)(line);
  // On stderr, so that a script reading the log reads the log alone.
  if (!values.json && archived?.action === "dropped") {
    context.stderr(
      `memfarm: job ${id}'s log (${archived.lines} lines) was dropped by the farm's retention on ${archived.archivedAt}\n`,
    );
  }
  return ExitCode.ok;
}

export async function cancelCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("cancel", context.args, GLOBAL_OPTIONS);
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const job = await client.post<JobResource>(`/jobs/${jobIdArgument("cancel", positionals)}/cancel`);
  context.stdout(
    values.json
      ? `${JSON.stringify(job)}\n`
      : `job ${job.id}: ${job.status === "canceled" ? "canceled" : "cancel requested"}\n`,
  );
  return ExitCode.ok;
}

export async function retryCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("retry", context.args, GLOBAL_OPTIONS);
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const job = await client.post<JobResource>(`/jobs/${jobIdArgument("retry", positionals)}/retry`);
  context.stdout(
    values.json
      ? `${JSON.stringify(job)}\n`
      : `job ${job.id} queued (a retry of job ${job.provenance.retryOf}): ${client.baseUrl}/jobs/${job.id}\n`,
  );
  return ExitCode.ok;
}
