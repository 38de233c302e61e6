import { execFile } from "node:child_process";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Hard limit; the command is killed after it. */
  timeoutMs?: number;
}

/**
 * Runs a program (no shell: an argument array) and resolves with its stdout; rejects with the
 * command, its exit code or signal and the end of its stderr, so a failed build step says why.
 */
export function runCommand(file: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 600_000,
        maxBuffer: 64 * 1024 * 1024,
        shell: false,
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout);
          return;
        }
        const how = error.signal ? `signal ${error.signal}` : `exit code ${error.code}`;
        const tail = `${stdout}${stderr}`.trim().split("\n").slice(-20).join("\n");
        reject(new Error(`${file} ${args.join(" ")} failed (${how}):\n${tail}`, { cause: error }));
      },
    );
  });
}
