import { isFullCommitSha } from "../../protocol/git-refs.ts";
import { runGit } from "./git-command.ts";

const LS_REMOTE_TIMEOUT_MS = 30_000;

/**
 * The commit a branch of a repository points to now (`git ls-remote`), or why it cannot be told.
 * The URL and the branch were validated when the watch was added; git gets them as arguments
 * (after `--`, so neither can be read as an option), never through a shell, with the same
 * environment as the agents' git (no prompts, only the allowed transports).
 */
export async function lsRemoteHead(
  repo: string,
  branch: string,
): Promise<{ head: string } | { error: string }> {
  let stdout: string;
  try {
    stdout = await runGit(["ls-remote", "--", repo, `refs/heads/${branch}`], {
      timeoutMs: LS_REMOTE_TIMEOUT_MS,
    });
  } catch (thrown) {
    return { error: `git ls-remote ${repo} failed: ${(thrown as Error).message}` };
  }
  const line = stdout.split("\n").find((one) => one.endsWith(`\trefs/heads/${branch}`));
  const head = line?.split("\t")[0] ?? "";
  if (!line) return { error: `the branch ${branch} does not exist in ${repo} (deleted or renamed?)` };
  if (!isFullCommitSha(head)) return { error: `git ls-remote gave ${JSON.stringify(head)}, not a commit` };
  return { head };
}
