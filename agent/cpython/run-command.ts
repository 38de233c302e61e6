import { spawn } from "node:child_process";
import type { LogLine } from "../../protocol/messages.ts";
import { LineSplitter } from "../regrtest/line-splitter.ts";
import { BuildError, type BuildErrorCode } from "./build-error.ts";
import { killGroup, killGroupAndWait } from "./process-group.ts";

/** Lines of output kept for a failure message. */
export const LOG_TAIL_LINES = 20;
/** Stdout lines kept for the caller (git rev-parse answers in one); the log gets them all. */
const MAX_CAPTURED_LINES = 1000;
/** How long to wait for the output pipes to close once the process has exited. */
const STREAMS_GRACE_MS = 2000;

export interface CommandSpec {
  /** What a person calls this step in a message: `git fetch`, `configure`, `make`. */
  step: string;
  command: string;
  /** Passed as an argument array, never through a shell. */
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** The BuildError code when this step fails or times out. */
  failureCode: BuildErrorCode;
}

export interface CommandIo {
  onLog: (line: LogLine) => void;
  signal: AbortSignal;
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Set when the process could not be started at all (no such program, not executable). */
  spawnError: Error | null;
  stdout: string[];
  /** The last LOG_TAIL_LINES lines of stdout and stderr together, in the order they came. */
  tail: string[];
}

/**
 * Runs one external program of a build in its own process group, streaming
 * each output line to the log. A timeout or an abort kills the whole group
 * (make's compilers included); an abort rejects with a `build_canceled`
 * BuildError once the group is gone. Other endings resolve, for the caller to judge.
 */
export async function runCommand(spec: CommandSpec, io: CommandIo): Promise<CommandResult> {
  if (io.signal.aborted) throw canceled(spec, []);
  io.onLog({ stream: "system", text: `$ ${[spec.command, ...spec.args].map(shown).join(" ")}` });

  const tail: string[] = [];
  const stdout: string[] = [];
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    shell: false,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: a cancel or timeout kills make and every compiler it started with one
    // signal, and a Ctrl-C meant for the agent does not reach the build.
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error: Error | null }>(
    (resolve) => {
      child.once("error", (error) => resolve({ code: null, signal: null, error }));
      child.once("exit", (code, signal) => resolve({ code, signal, error: null }));
    },
  );
  const streamsClosed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  for (const stream of ["stdout", "stderr"] as const) {
    const splitter = new LineSplitter((text) => {
      tail.push(text);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      if (stream === "stdout" && stdout.length < MAX_CAPTURED_LINES) stdout.push(text);
      io.onLog({ stream, text });
    });
    child[stream].on("data", (chunk: Buffer) => splitter.push(chunk));
    child[stream].on("end", () => splitter.end());
  }

  const pid = child.pid;
  const killNow = () => {
    if (pid !== undefined) killGroup(pid);
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    io.onLog({ stream: "system", text: `${spec.step}: no end after ${seconds(spec.timeoutMs)}: killing it` });
    killNow();
  }, spec.timeoutMs);
  io.signal.addEventListener("abort", killNow, { once: true });

  const exit = await exited;
  clearTimeout(timer);
  io.signal.removeEventListener("abort", killNow);
  // Whatever the step left running in its group (a daemonized helper, a stray compiler) goes with it,
  // and is gone before the caller goes on (or discards the build directory under it).
  if (pid !== undefined) await killGroupAndWait(pid);
  await Promise.race([streamsClosed, new Promise((resolve) => setTimeout(resolve, STREAMS_GRACE_MS))]);

  if (io.signal.aborted) throw canceled(spec, tail);
  return {
    exitCode: exit.code,
    signal: exit.signal,
    timedOut,
    spawnError: exit.error,
    stdout,
    tail,
  };
}

/** Runs a step that must succeed: any other ending throws a BuildError with the step's log tail. */
export async function runStep(spec: CommandSpec, io: CommandIo): Promise<CommandResult> {
  const result = await runCommand(spec, io);
  const reason = failureReason(spec, result);
  if (reason !== null) throw new BuildError(spec.failureCode, spec.step, reason, result.tail);
  return result;
}

/** Why a finished command counts as failed, or null when it exited 0. */
export function failureReason(spec: CommandSpec, result: CommandResult): string | null {
  if (result.spawnError !== null) return `could not start ${spec.command}: ${result.spawnError.message}`;
  if (result.timedOut) return `timed out after ${seconds(spec.timeoutMs)}`;
  if (result.signal !== null) return `killed by signal ${result.signal}`;
  if (result.exitCode !== 0) return `exit code ${result.exitCode}`;
  return null;
}

function canceled(spec: CommandSpec, tail: string[]): BuildError {
  return new BuildError("build_canceled", spec.step, "the job was canceled", tail);
}

/** An argument as a person would type it, so a logged command line can be read back unambiguously. */
function shown(arg: string): string {
  return /^[A-Za-z0-9_./:=+@%,-]+$/.test(arg) ? arg : JSON.stringify(arg);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
