import type { ValidationError } from "../../protocol/errors.ts";
import { parseLabels } from "../../protocol/names.ts";
import type { WatchResource } from "../../protocol/resources.ts";
import { parseMemlimit } from "../../protocol/sizes.ts";
import { CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { createClient } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { table } from "../format.ts";
import { GLOBAL_OPTIONS, parseCommand } from "../parse.ts";

const short = (sha: string | null) => (sha ? sha.slice(0, 12) : "-");

function watchesTable(watches: WatchResource[]): string {
  return table(
    ["NAME", "BRANCH", "SUITE", "EVERY", "STATE", "HEAD", "CHECKED", "ERROR"],
    watches.map((watch) => [
      watch.name,
      `${watch.repo} ${watch.branch}`,
      watch.suite,
      `${watch.everySeconds}s`,
      watch.paused ? "paused" : "watching",
      short(watch.head),
      watch.checkedAt ?? "-",
      watch.error ?? "",
    ]),
  );
}

function watchDetails(watch: WatchResource): string {
  const lines = [
    `watch ${watch.name}: ${watch.repo} ${watch.branch}, suite ${watch.suite}, every ${watch.everySeconds} s${watch.paused ? " (paused)" : ""}`,
    `  head ${watch.head ?? "not looked up yet"}${watch.checkedAt ? `, looked up ${watch.checkedAt}` : ""}`,
    ...(watch.error ? [`  last look-up failed: ${watch.error}`] : []),
    ...(watch.queuedJobId === null ? [] : [`  waiting in the queue: job ${watch.queuedJobId}`]),
    "",
    table(
      ["COMMIT", "COMMITTED", "SEEN", "JOB"],
      watch.commits.map((commit) => [
        short(commit.sha),
        commit.commitTime ?? "-",
        commit.seenAt,
        commit.jobId === null ? "untested (a newer head took its place)" : String(commit.jobId),
      ]),
    ),
  ];
  return lines.join("\n");
}

/**
 * `memfarm watch add NAME --repo URL --branch B --suite S [...]`, `watch list`, `watch show NAME`,
 * `watch pause|resume|check|remove NAME`.
 */
export async function watchCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("watch", context.args, {
    ...GLOBAL_OPTIONS,
    repo: { type: "string" },
    branch: { type: "string" },
    suite: { type: "string" },
    memlimit: { type: "string" },
    tests: { type: "string" },
    label: { type: "string", multiple: true },
    every: { type: "string" },
    "comment-culprit": { type: "boolean" },
  });
  const [action = "list", name] = positionals;
  const client = () =>
    createClient({ url: values.url, token: values.token, dataDir: values["data-dir"] }, context.env);
  const print = (watch: WatchResource) =>
    context.stdout(values.json ? `${JSON.stringify(watch)}\n` : `${watchDetails(watch)}\n`);
  if (action === "list") {
    const { watches } = await client().get<{ watches: WatchResource[] }>("/watches");
    context.stdout(values.json ? `${JSON.stringify({ watches })}\n` : `${watchesTable(watches)}\n`);
    return ExitCode.ok;
  }
  if (!name) {
    throw new CliError(
      `memfarm watch ${action} needs a watch name, like "memfarm watch ${action} main-bigmem"`,
      ExitCode.usage,
    );
  }
  if (action === "add") {
    if (!values.branch || !values.suite) {
      throw new CliError(
        'memfarm watch add needs --branch and --suite, like "memfarm watch add main-bigmem --branch main --suite bigmem"',
        ExitCode.usage,
      );
    }
    let labels: Record<string, string> = {};
    try {
      if (values.memlimit !== undefined) parseMemlimit(values.memlimit, "--memlimit");
      labels = parseLabels((values.label ?? []).join(","), "--label");
    } catch (thrown) {
      throw new CliError((thrown as ValidationError).message, ExitCode.usage);
    }
    print(
      await client().post<WatchResource>("/watches", {
        name,
        branch: values.branch,
        suite: values.suite,
        ...(values.repo === undefined ? {} : { repo: values.repo }),
        ...(values.memlimit === undefined ? {} : { memlimit: values.memlimit }),
        ...(values.tests === undefined
          ? {}
          : {
              tests: values.tests
                .split(",")
                .map((test) => test.trim())
                .filter(Boolean),
            }),
        labels,
        ...(values.every === undefined ? {} : { every: values.every }),
        ...(values["comment-culprit"] ? { commentOnCulprit: true } : {}),
      }),
    );
    return ExitCode.ok;
  }
  const path = `/watches/${encodeURIComponent(name)}`;
  if (action === "show") print(await client().get<WatchResource>(path));
  else if (action === "pause" || action === "resume" || action === "check") {
    print(await client().post<WatchResource>(`${path}/${action}`));
  } else if (action === "remove") {
    const removed = await client().delete<{ removed: string }>(path);
    context.stdout(values.json ? `${JSON.stringify(removed)}\n` : `watch ${removed.removed} removed\n`);
  } else {
    throw new CliError(`unknown watch action "${action}"; see "memfarm watch --help"`, ExitCode.usage);
  }
  return ExitCode.ok;
}
