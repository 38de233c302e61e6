import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { isFullCommitSha } from "../../protocol/git-refs.ts";
import { KeyedMutex } from "../../protocol/keyed-mutex.ts";
import type { RangeCommit } from "../../protocol/resources.ts";
import { runGit } from "./git-command.ts";

const CLONE_TIMEOUT_MS = 15 * 60_000;
const COMMAND_TIMEOUT_MS = 5 * 60_000;
/** A range longer than this is not bisected commit by commit (a watch that slept for years). */
export const MAX_RANGE = 10_000;
const FIELD = "\x1f";

/**
 * The commits a regression's range holds, read from the coordinator's own mirror of the watched
 * repository (DATA_DIR/mirrors): first-parent order, oldest first, from the one after `good` to
 * `bad`, with subject, author and time. The mirror is a bare clone of commits only (`--filter=tree:0`:
 * for CPython tens of MB, not the whole history's files), made on first use, fetched after. The URL,
 * branch and SHAs were validated before; git gets them as arguments, never through a shell.
 */
export class CommitRanges {
  /** One git at a time per mirror: two fetches into one repository would fight over its lock files. */
  private readonly mirrors = new KeyedMutex();

  constructor(private readonly mirrorsDir: string) {}

  /**
   * Rejects with a sentence a person can act on when the range cannot be read, or with the
   * signal's reason when it aborts (the git command in flight is stopped).
   */
  async read(
    repo: string,
    branch: string,
    good: string,
    bad: string,
    signal: AbortSignal,
  ): Promise<RangeCommit[]> {
    if (!isFullCommitSha(good) || !isFullCommitSha(bad)) {
      throw new Error(`the range ${good}..${bad} is not between two full commit SHAs`);
    }
    const mirror = join(
      this.mirrorsDir,
      `${createHash("sha256").update(repo).digest("hex").slice(0, 16)}.git`,
    );
    const git = (what: string, args: string[], timeoutMs = COMMAND_TIMEOUT_MS) =>
      runGit(args, { timeoutMs, signal }).catch((thrown: unknown) => {
        throw signal.aborted ? thrown : new Error(`git ${what} failed: ${(thrown as Error).message}`);
      });
    return this.mirrors.run(mirror, signal, async () => {
      if (!existsSync(join(mirror, "HEAD"))) await this.clone(mirror, repo, git);
      await git("fetch", [
        "--git-dir",
        mirror,
        "fetch",
        "--quiet",
        "origin",
        `+refs/heads/${branch}:refs/memfarm/${branch}`,
      ]);
      const hasCommit = (sha: string) =>
        git("cat-file", ["--git-dir", mirror, "cat-file", "-e", `${sha}^{commit}`]).then(
          () => true,
          () => false,
        );
      for (const sha of [good, bad]) {
        if (await hasCommit(sha)) continue;
        // No longer on the branch (a force-push): ask for the commit itself.
        await git("fetch", ["--git-dir", mirror, "fetch", "--quiet", "origin", sha]).catch(() => undefined);
        if (!(await hasCommit(sha))) throw new Error(`${sha} is not in ${repo} any more`);
      }
      const log = await git("log", [
        "--git-dir",
        mirror,
        "log",
        "--first-parent",
        "--reverse",
        `--format=%H${FIELD}%s${FIELD}%an <%ae>${FIELD}%cI`,
        `${good}..${bad}`,
      ]);
      return rangeOf(log, good, bad, branch);
    });
  }

  /** A bare clone of commits only, made aside and renamed into place: a crash leaves no half-made mirror. */
  private async clone(
    mirror: string,
    repo: string,
    git: (what: string, args: string[], timeoutMs?: number) => Promise<string>,
  ): Promise<void> {
    await mkdir(this.mirrorsDir, { recursive: true });
    const fresh = `${mirror}.new-${randomBytes(4).toString("hex")}`;
    try {
      await git(
        "clone",
        ["clone", "--bare", "--quiet", "--filter=tree:0", "--no-tags", "--", repo, fresh],
        CLONE_TIMEOUT_MS,
      );
      await rename(fresh, mirror);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  }
}

function rangeOf(log: string, good: string, bad: string, branch: string): RangeCommit[] {
  const commits = log
    .split("\n")
    .filter((line) => line !== "")
    .map((line): RangeCommit => {
      const [sha = "", subject = "", author = "", time = ""] = line.split(FIELD);
      return { sha, subject, author, time };
    });
  if (commits.at(-1)?.sha !== bad) {
    throw new Error(`${good} is not an ancestor of ${bad} on ${branch}: there is no range to bisect`);
  }
  if (commits.length > MAX_RANGE) {
    throw new Error(
      `the range holds ${commits.length} commits, more than the ${MAX_RANGE} a bisection takes`,
    );
  }
  return commits;
}
