import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { gitEnv } from "../../protocol/git-env.ts";
import { isFullCommitSha } from "../../protocol/git-refs.ts";
import type { RangeCommit } from "../../protocol/resources.ts";

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
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(private readonly mirrorsDir: string) {}

  /** Rejects with a sentence a person can act on when the range cannot be read. */
  read(repo: string, branch: string, good: string, bad: string): Promise<RangeCommit[]> {
    if (!isFullCommitSha(good) || !isFullCommitSha(bad)) {
      return Promise.reject(new Error(`the range ${good}..${bad} is not between two full commit SHAs`));
    }
    const mirror = join(
      this.mirrorsDir,
      `${createHash("sha256").update(repo).digest("hex").slice(0, 16)}.git`,
    );
    // One git at a time per mirror: two fetches into one repository would fight over its lock files.
    const previous = this.busy.get(mirror) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.readLocked(mirror, repo, branch, good, bad));
    this.busy.set(mirror, run);
    void run
      .finally(() => {
        if (this.busy.get(mirror) === run) this.busy.delete(mirror);
      })
      .catch(() => undefined);
    return run;
  }

  private async readLocked(mirror: string, repo: string, branch: string, good: string, bad: string) {
    if (!existsSync(join(mirror, "HEAD"))) await this.clone(mirror, repo);
    await git([
      "--git-dir",
      mirror,
      "fetch",
      "--quiet",
      "origin",
      `+refs/heads/${branch}:refs/memfarm/${branch}`,
    ]);
    for (const sha of [good, bad]) {
      if (!(await hasCommit(mirror, sha))) {
        // No longer on the branch (a force-push): ask for the commit itself.
        await git(["--git-dir", mirror, "fetch", "--quiet", "origin", sha]).catch(() => undefined);
        if (!(await hasCommit(mirror, sha))) throw new Error(`${sha} is not in ${repo} any more`);
      }
    }
    const log = await git([
      "--git-dir",
      mirror,
      "log",
      "--first-parent",
      "--reverse",
      `--format=%H${FIELD}%s${FIELD}%an <%ae>${FIELD}%cI`,
      `${good}..${bad}`,
    ]);
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

  /** A bare clone of commits only, made aside and renamed into place: a crash leaves no half-made mirror. */
  private async clone(mirror: string, repo: string): Promise<void> {
    await mkdir(this.mirrorsDir, { recursive: true });
    const fresh = `${mirror}.new-${randomBytes(4).toString("hex")}`;
    try {
      await git(
        ["clone", "--bare", "--quiet", "--filter=tree:0", "--no-tags", "--", repo, fresh],
        CLONE_TIMEOUT_MS,
      );
      await rename(fresh, mirror);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  }
}

function hasCommit(mirror: string, sha: string): Promise<boolean> {
  return git(["--git-dir", mirror, "cat-file", "-e", `${sha}^{commit}`]).then(
    () => true,
    () => false,
  );
}

function git(args: string[], timeout = COMMAND_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      { env: gitEnv(true), timeout, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return resolve(String(stdout));
        const said = String(stderr).trim().split("\n").slice(-3).join("; ");
        const why = error.killed ? `no answer within ${timeout / 1000} s` : said || error.message;
        reject(
          new Error(
            `git ${args.find((arg) => !arg.startsWith("-") && !arg.includes("/")) ?? ""} failed: ${why.slice(0, 500)}`,
          ),
        );
      },
    );
  });
}
