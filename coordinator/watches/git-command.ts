import { execFile } from "node:child_process";
import { gitEnv } from "../../protocol/git-env.ts";

export interface GitOptions {
  timeoutMs: number;
  /** Stops the command (the coordinator is shutting down). */
  signal?: AbortSignal;
}

/**
 * Runs git as the coordinator's watches do: the arguments as given, never through a shell, with
 * the agents' git environment (no prompts, only the allowed transports). Resolves to its stdout;
 * rejects with why in words (the end of git's stderr, or that it did not answer in time).
 */
export function runGit(args: string[], options: GitOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      { env: gitEnv(true), timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024, signal: options.signal },
      (error, stdout, stderr) => {
        if (!error) return resolve(String(stdout));
        if (options.signal?.aborted) return reject(options.signal.reason);
        const said = String(stderr).trim().split("\n").slice(-3).join("; ");
        const why = error.killed ? `no answer within ${options.timeoutMs / 1000} s` : said || error.message;
        reject(new Error(why.slice(0, 500)));
      },
    );
  });
}
