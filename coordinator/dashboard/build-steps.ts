import type { JobResource, LogLineResource } from "../../protocol/resources.ts";

export type BuildStepName = "fetch" | "checkout" | "configure" | "make" | "test";

/** One step of an attempt (fetch, configure, make, test), from the commands the agent logged. */
export interface BuildStep {
  attemptId: string;
  name: BuildStepName;
  /** The log line of the step's first command: the page links to it. */
  lineNo: number;
  startedAt: string;
  /** Until the next step started, or the attempt or job ended; null while it runs. */
  seconds: number | null;
}

/**
 * The agent logs each command it runs as a `system` line `$ COMMAND ARGS` (git for the fetch and
 * the worktree, `.../configure`, `make`, and the interpreter with the suite's arguments), each
 * with the time it read it. A step starts at its first command; consecutive commands of one step
 * (every git fetch) are one step. Lines without a time (older agents) give no steps.
 */
export function buildSteps(job: JobResource, systemLines: readonly LogLineResource[]): BuildStep[] {
  const steps: BuildStep[] = [];
  const testCommand = job.args.join(" ");
  for (const line of systemLines) {
    if (line.stream !== "system" || !line.at || !line.text.startsWith("$ ")) continue;
    const name = stepOf(line.text.slice(2), testCommand);
    if (name === null) continue;
    const last = steps.at(-1);
    if (last && last.attemptId === line.attemptId && last.name === name) continue;
    steps.push({ attemptId: line.attemptId, name, lineNo: line.lineNo, startedAt: line.at, seconds: null });
  }
  for (const [index, step] of steps.entries()) {
    const next = steps[index + 1];
    const end =
      next && next.attemptId === step.attemptId
        ? next.startedAt
        : (job.attempts.find((attempt) => attempt.id === step.attemptId)?.finishedAt ?? job.finishedAt);
    if (end) step.seconds = Math.max(0, (Date.parse(end) - Date.parse(step.startedAt)) / 1000);
  }
  return steps;
}

function stepOf(command: string, testCommand: string): BuildStepName | null {
  const program = command.split(" ", 1)[0] ?? "";
  const base = program.slice(program.lastIndexOf("/") + 1).replace(/^"|"$/g, "");
  if (base === "git") return /\bworktree\b/.test(command) ? "checkout" : "fetch";
  if (base === "configure") return "configure";
  if (base === "make") return "make";
  if (testCommand !== "" && command.endsWith(` ${testCommand}`)) return "test";
  return null;
}
