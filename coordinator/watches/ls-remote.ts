import { execFile } from "node:child_process";
import { gitEnv } from "../../protocol/git-env.ts";
import { isFullCommitSha } from "../../protocol/git-refs.ts";

const LS_REMOTE_TIMEOUT_MS = 30_000;

/**
 * The commit a branch of a repository points to now (`git ls-remote`), or why it cannot be told.
 * The URL and the branch were validated when the watch was added; git gets them as arguments
 * (after `--`, so neither can be read as an option), never through a shell, with the same
 * environment as the agents' git (no prompts, only the allowed transports).
 */
export function lsRemoteHead(repo: string, branch: string): Promise<{ head: string } | { error: string }> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["ls-remote", "--", repo, `refs/heads/${branch}`],
      { env: gitEnv(true), timeout: LS_REMOTE_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const said = String(stderr).trim().split("\n").slice(-3).join("; ");
          const why = error.killed
            ? `no answer within ${LS_REMOTE_TIMEOUT_MS / 1000} s`
            : said || error.message;
          resolve({ error: `git ls-remote ${repo} failed: ${why.slice(0, 500)}` });
          return;
        }
        const line = String(stdout)
          .split("\n")
          .find((one) => one.endsWith(`\trefs/heads/${branch}`));
        const head = line?.split("\t")[0] ?? "";
        if (!line) resolve({ error: `the branch ${branch} does not exist in ${repo} (deleted or renamed?)` });
        else if (!isFullCommitSha(head))
          resolve({ error: `git ls-remote gave ${JSON.stringify(head)}, not a commit` });
        else resolve({ head });
      },
    );
  });
}
