import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { gitEnv } from "../../protocol/git-env.ts";
import { isCommitSha, isFullCommitSha, isPullRequestRef } from "../../protocol/git-refs.ts";
import { BuildError } from "./build-error.ts";
import { type CommandIo, type CommandSpec, runCommand, runStep } from "./run-command.ts";

/** Where fetched refs land in a mirror; outside refs/heads and refs/tags, so they never clash with git's own. */
const FETCHED_NAMESPACE = "refs/memfarm/fetched";
/** Every branch of the repository, fetched only to find a commit given by an abbreviated SHA. */
const ALL_BRANCHES = "refs/memfarm/heads";

export interface MirrorOptions {
  /** `workDir/mirrors`. */
  mirrorsDir: string;
  allowLocal: boolean;
  timeoutMs: number;
  io: CommandIo;
}

export interface FetchedCommit {
  /** The bare mirror repository that holds the commit. */
  mirror: string;
  /** The full, lower-case SHA. */
  commit: string;
}

/** One bare mirror per repository URL, named by a hash of the URL exactly as given. */
export function mirrorDirFor(mirrorsDir: string, repo: string): string {
  return join(mirrorsDir, `${sha256(repo).slice(0, 16)}.git`);
}

/**
 * Brings the commit `ref` names into the repository's mirror and returns its
 * SHA. Only that ref is fetched, into a ref of its own under refs/memfarm, so
 * the next fetch of it negotiates against everything already there and moves
 * only new objects. `repo` and `ref` must have passed protocol/git-refs.ts.
 */
export async function fetchCommit(repo: string, ref: string, options: MirrorOptions): Promise<FetchedCommit> {
  const { mirror, created } = await ensureMirror(repo, options);
  try {
    return { mirror, commit: await fetchRef(mirror, repo, ref, options) };
  } catch (error) {
    // A repository that never answered (a typo in the URL, say) leaves no empty mirror behind.
    if (created && !holdsFetchedRefs(mirror))
      await rm(mirror, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

async function fetchRef(mirror: string, repo: string, ref: string, options: MirrorOptions): Promise<string> {
  if (isCommitSha(ref)) return fetchSha(mirror, repo, ref, options);
  const source = isPullRequestRef(ref) ? `refs/${ref}` : ref;
  const local = `${FETCHED_NAMESPACE}/${sha256(ref).slice(0, 16)}`;
  await runStep(fetchSpec(mirror, repo, `+${source}:${local}`, ref, options), options.io);
  const commit = await resolveCommit(mirror, local, options);
  if (commit === null) {
    throw new BuildError(
      "fetch_failed",
      `git fetch of ${ref}`,
      `${ref} in ${repo} does not point to a commit`,
    );
  }
  return commit;
}

/**
 * A commit by SHA: nothing to fetch when the mirror already has it; a full SHA
 * is asked for directly (GitHub and protocol v2 servers serve any reachable
 * commit, pull requests included); failing that, or for an abbreviated SHA,
 * the repository's branches are fetched and searched.
 */
async function fetchSha(mirror: string, repo: string, sha: string, options: MirrorOptions): Promise<string> {
  const known = await resolveCommit(mirror, sha, options);
  if (known !== null) return known;
  if (sha.length === 40) {
    const local = `${FETCHED_NAMESPACE}/${sha.toLowerCase()}`;
    const direct = await runCommand(fetchSpec(mirror, repo, `+${sha}:${local}`, sha, options), options.io);
    if (direct.exitCode === 0) {
      const commit = await resolveCommit(mirror, local, options);
      if (commit !== null) return commit;
    }
    options.io.onLog({
      stream: "system",
      text: "the server would not send that commit by id: fetching branches",
    });
  }
  await runStep(
    fetchSpec(mirror, repo, `+refs/heads/*:${ALL_BRANCHES}/*`, "all branches", options),
    options.io,
  );
  const found = await resolveCommit(mirror, sha, options);
  if (found === null) {
    const hint =
      sha.length === 40
        ? "neither the server nor any branch has it"
        : "an abbreviated SHA is looked up on branches only; give the full SHA or the ref";
    throw new BuildError("fetch_failed", `git fetch of ${sha}`, `no commit ${sha} in ${repo} (${hint})`);
  }
  return found;
}

/** Creates the bare mirror on first use, atomically: a crash never leaves a half-made one behind. */
async function ensureMirror(
  repo: string,
  options: MirrorOptions,
): Promise<{ mirror: string; created: boolean }> {
  const mirror = mirrorDirFor(options.mirrorsDir, repo);
  if (existsSync(join(mirror, "HEAD"))) return { mirror, created: false };
  await mkdir(options.mirrorsDir, { recursive: true });
  const fresh = `${mirror}.new-${randomBytes(4).toString("hex")}`;
  try {
    await runStep(gitSpec("git init", ["init", "--bare", "--quiet", fresh], options), options.io);
    // For a person looking into the mirror; fetches name the URL themselves.
    await runStep(
      gitSpec("git config", ["--git-dir", fresh, "config", "remote.origin.url", repo], options),
      options.io,
    );
    await rm(mirror, { recursive: true, force: true });
    await rename(fresh, mirror);
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
  return { mirror, created: true };
}

/** Whether any fetch into the mirror brought something (fetched refs are loose until git packs them). */
function holdsFetchedRefs(mirror: string): boolean {
  return existsSync(join(mirror, "refs", "memfarm")) || existsSync(join(mirror, "packed-refs"));
}

/** The full SHA of the commit `name` points to in the mirror, or null when it names none. */
async function resolveCommit(mirror: string, name: string, options: MirrorOptions): Promise<string | null> {
  const spec = gitSpec(
    "git rev-parse",
    ["--git-dir", mirror, "rev-parse", "--verify", "--quiet", `${name}^{commit}`],
    options,
  );
  const result = await runCommand(spec, options.io);
  const sha = result.stdout[0]?.trim().toLowerCase() ?? "";
  return result.exitCode === 0 && isFullCommitSha(sha) ? sha : null;
}

/**
 * When `commit` was committed (its committer date, `git log -1 --format=%cI`), in UTC; null if
 * git cannot tell. `commit` is a full SHA the mirror holds.
 */
export async function committerTime(
  mirror: string,
  commit: string,
  options: MirrorOptions,
): Promise<string | null> {
  const spec = gitSpec("git log", ["--git-dir", mirror, "log", "-1", "--format=%cI", commit, "--"], options);
  const result = await runCommand(spec, options.io);
  const time = Date.parse(result.stdout[0]?.trim() ?? "");
  return result.exitCode === 0 && Number.isFinite(time) ? new Date(time).toISOString() : null;
}

function fetchSpec(
  mirror: string,
  repo: string,
  refspec: string,
  what: string,
  options: MirrorOptions,
): CommandSpec {
  // The URL is given, not a remote name, so the fetch goes where the request says whatever the mirror's config holds.
  const args = ["--git-dir", mirror, "fetch", "--no-tags", "--no-recurse-submodules", "--", repo, refspec];
  return gitSpec(`git fetch of ${what} from ${repo}`, args, options);
}

function gitSpec(step: string, args: string[], options: MirrorOptions): CommandSpec {
  return {
    step,
    command: "git",
    args,
    cwd: options.mirrorsDir,
    env: gitEnv(options.allowLocal),
    timeoutMs: options.timeoutMs,
    failureCode: "fetch_failed",
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
