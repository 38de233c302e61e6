import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { checkConfigureFlags } from "../../protocol/configure-flags.ts";
import { checkGitRef, checkRepoUrl } from "../../protocol/git-refs.ts";
import { KeyedMutex } from "../../protocol/keyed-mutex.ts";
import type { LogLine } from "../../protocol/messages.ts";
import { buildDirFor, discardBuild, markBuilt, readBuilt } from "./build-cache.ts";
import { BuildsInUse, evictBuilds, touchBuilt } from "./build-cache-quota.ts";
import { checkBuildDependencies } from "./build-dependencies.ts";
import { BuildError } from "./build-error.ts";
import { buildEnv, checkOut, configureAndMake } from "./build-steps.ts";
import { committerTime, fetchCommit, mirrorDirFor } from "./git-mirror.ts";
import type { CommandIo } from "./run-command.ts";

export interface BuildRequest {
  repo: string;
  ref: string;
  configureFlags: string[];
  /** Build this exact commit (full SHA), found through `ref`, even if the ref has moved on since. */
  commit?: string;
}

export interface BuildTimeouts {
  /** Creating the mirror, fetching and resolving the ref. */
  fetchMs: number;
  /** Putting the commit on disk. */
  checkoutMs: number;
  /** configure and make together. */
  buildMs: number;
}

export const DEFAULT_BUILD_TIMEOUTS: BuildTimeouts = {
  fetchMs: 30 * 60_000,
  checkoutMs: 10 * 60_000,
  buildMs: 3 * 3_600_000,
};

export interface BuildContext {
  /** The agent's work directory: mirrors go to `mirrors/`, builds to `builds/`. */
  workDir: string;
  /** make -jN. */
  cores: number;
  /** Accept file:// and path repositories (`memfarm agent --allow-local-repos`). */
  allowLocalRepos: boolean;
  /** Every line git, configure and make print, and what the agent does ("system"). */
  onLog: (line: LogLine) => void;
  /** Aborting kills the running git, configure or make (its whole process group) and rejects. */
  signal: AbortSignal;
  timeouts?: Partial<BuildTimeouts>;
  /** Finished builds may take this much disk (`--build-cache-size`); undefined: no limit. */
  buildCacheBytes?: number;
}

export interface PreparedInterpreter {
  /** `<build dir>/python`. */
  python: string;
  /** The full SHA the ref resolved to. */
  commit: string;
  /** When that commit was committed (its committer date, UTC); null if git could not tell. */
  commitTime: string | null;
  /** True when an earlier job had already built this commit with these flags. */
  cached: boolean;
  /** Ends this attempt's use of the build, which until then is never evicted. */
  release: () => void;
}

/** One git command at a time per mirror, one build at a time per commit and flags, in this process. */
const mirrorLocks = new KeyedMutex();
const buildLocks = new KeyedMutex();
/** Builds that attempts of this process are using, which the cache quota must not remove. */
const buildsInUse = new BuildsInUse();

/**
 * A CPython interpreter built from `ref` of `repo` with `configureFlags`:
 * fetched into the repository's mirror, checked out at the exact commit,
 * configured and made, or taken from the build cache when this commit was
 * built with these flags before. Rejects with a ValidationError for bad input
 * (before any command runs) and a BuildError when a step fails or the signal aborts.
 */
export async function prepareCpython(
  request: BuildRequest,
  context: BuildContext,
): Promise<PreparedInterpreter> {
  const repo = checkRepoUrl(request.repo, { allowLocal: context.allowLocalRepos });
  const ref = checkGitRef(request.ref);
  const configureFlags = checkConfigureFlags(request.configureFlags);
  const pinned = request.commit === undefined ? undefined : checkGitRef(request.commit, "commit");
  const timeouts = { ...DEFAULT_BUILD_TIMEOUTS, ...context.timeouts };
  const cores = Number.isInteger(context.cores) && context.cores > 0 ? context.cores : 1;
  const workDir = resolve(context.workDir);
  const mirrorsDir = join(workDir, "mirrors");
  const buildsDir = join(workDir, "builds");
  const io: CommandIo = { onLog: context.onLog, signal: context.signal };
  const allowLocal = context.allowLocalRepos;

  context.onLog({ stream: "system", text: `preparing CPython ${ref} from ${repo}` });
  const { mirror, commit, commitTime } = await whileHolding(
    mirrorLocks,
    mirrorDirFor(mirrorsDir, repo),
    "git fetch",
    context.signal,
    async () => {
      const options = { mirrorsDir, allowLocal, timeoutMs: timeouts.fetchMs, io };
      const fetched = await fetchPinnedCommit(repo, ref, pinned, options);
      return { ...fetched, commitTime: await committerTime(fetched.mirror, fetched.commit, options) };
    },
  );

  const dir = buildDirFor(buildsDir, commit, configureFlags);
  // Held from before the cache is read: an eviction by another attempt must not take it meanwhile.
  const release = buildsInUse.hold(dir);
  try {
    const prepared = await whileHolding(buildLocks, dir, "build", context.signal, async () => {
      const built = await readBuilt(dir);
      if (built !== null) {
        context.onLog({
          stream: "system",
          text: `using the build of ${commit} made ${built.builtAt}: ${dir}`,
        });
        await touchBuilt(dir);
        return { python: built.python, commit, commitTime, cached: true, release };
      }
      // Whatever is there is a build that never finished: a failure, a cancel, or the agent died mid-build.
      await discardBuild(dir);
      // Before the checkout and the long build: a host that cannot build says so now, in words.
      const lacking = await checkBuildDependencies(buildEnv());
      if (lacking !== null) context.onLog({ stream: "system", text: lacking });
      await mkdir(buildsDir, { recursive: true });
      try {
        await whileHolding(mirrorLocks, mirror, "git worktree add", context.signal, () =>
          checkOut(mirror, commit, dir, { allowLocal, timeoutMs: timeouts.checkoutMs, io, cwd: buildsDir }),
        );
        const python = await configureAndMake(dir, configureFlags, {
          cores,
          timeoutMs: timeouts.buildMs,
          io,
        });
        await markBuilt(dir, { commit, configureFlags, python, builtAt: new Date().toISOString() });
        context.onLog({ stream: "system", text: `built ${python}` });
        return { python, commit, commitTime, cached: false, release };
      } catch (error) {
        // A failed build must not be taken for a finished one, nor fill the disk.
        await discardBuild(dir).catch(() => undefined);
        throw error;
      }
    });
    if (context.buildCacheBytes !== undefined) {
      await evictBuilds(buildsDir, context.buildCacheBytes, buildsInUse, (text) =>
        context.onLog({ stream: "system", text }),
      );
    }
    return prepared;
  } catch (error) {
    release();
    throw error;
  }
}

/** Runs `work` under `mutex`'s lock for `key`; an abort while waiting is a canceled build, like an abort while running. */
async function whileHolding<T>(
  mutex: KeyedMutex,
  key: string,
  step: string,
  signal: AbortSignal,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await mutex.run(key, signal, work);
  } catch (error) {
    if (signal.aborted && !(error instanceof BuildError)) {
      throw new BuildError("build_canceled", step, "the job was canceled", [], { cause: error });
    }
    throw error;
  }
}

/**
 * The commit `ref` names, unless the job is pinned to another one: then the ref has moved on since
 * the job was queued (a push to the pull request), and the pinned commit, which the mirror may hold
 * already or the server serves by id, is the one to build.
 */
async function fetchPinnedCommit(
  repo: string,
  ref: string,
  pinned: string | undefined,
  options: Parameters<typeof fetchCommit>[2],
): Promise<Awaited<ReturnType<typeof fetchCommit>>> {
  const fetched = await fetchCommit(repo, ref, options);
  options.io.onLog({ stream: "system", text: `${ref} is commit ${fetched.commit}` });
  if (pinned === undefined || fetched.commit === pinned) return fetched;
  options.io.onLog({ stream: "system", text: `the job is pinned to ${pinned}: building that commit` });
  return fetchCommit(repo, pinned, options);
}
