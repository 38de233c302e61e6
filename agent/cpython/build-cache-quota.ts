import { lstat, readdir, utimes } from "node:fs/promises";
import { join } from "node:path";
import { formatBytes } from "../../protocol/sizes.ts";
import { BUILT_MARKER, discardBuild } from "./build-cache.ts";

/**
 * The builds attempts of this process are testing right now, counted (two attempts may share one
 * build). Eviction never removes one of these: its interpreter would vanish under running tests.
 */
export class BuildsInUse {
  private readonly users = new Map<string, number>();

  /** Marks `dir` in use; the returned function ends this use (calling it twice does nothing). */
  hold(dir: string): () => void {
    this.users.set(dir, (this.users.get(dir) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.users.get(dir) ?? 1) - 1;
      if (left > 0) this.users.set(dir, left);
      else this.users.delete(dir);
    };
  }

  has(dir: string): boolean {
    return this.users.has(dir);
  }
}

/** Records that a finished build was used now: eviction goes by this time (its marker's mtime). */
export async function touchBuilt(dir: string): Promise<void> {
  const now = new Date();
  await utimes(join(dir, BUILT_MARKER), now, now).catch(() => undefined);
}

interface CachedBuild {
  dir: string;
  bytes: number;
  lastUsedMs: number;
}

/** Bytes of the files under `path`, not following links (a build's python links into itself). */
async function diskBytes(path: string): Promise<number> {
  const stat = await lstat(path).catch(() => null);
  if (stat === null) return 0;
  if (!stat.isDirectory()) return stat.size;
  const entries = await readdir(path).catch(() => [] as string[]);
  let total = 0;
  for (const entry of entries) total += await diskBytes(join(path, entry));
  return total;
}

/** The finished builds under `buildsDir`; a directory without a marker is a build under way, not counted. */
async function finishedBuilds(buildsDir: string): Promise<CachedBuild[]> {
  const entries = await readdir(buildsDir, { withFileTypes: true }).catch(() => []);
  const builds: CachedBuild[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = join(buildsDir, entry.name);
    const marker = await lstat(join(dir, BUILT_MARKER)).catch(() => null);
    if (marker === null) continue;
    builds.push({ dir, bytes: await diskBytes(dir), lastUsedMs: marker.mtimeMs });
  }
  return builds;
}

export interface EvictionReport {
  removed: string[];
  /** What the finished builds take after eviction. */
  keptBytes: number;
}

/**
 * Removes finished builds, least recently used first, until those left take at most `quotaBytes`;
 * a build in use is never removed, so the cache may stay over its quota while they run.
 */
export async function evictBuilds(
  buildsDir: string,
  quotaBytes: number,
  inUse: BuildsInUse,
  onLog: (text: string) => void,
): Promise<EvictionReport> {
  const builds = (await finishedBuilds(buildsDir)).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  let total = builds.reduce((sum, build) => sum + build.bytes, 0);
  const removed: string[] = [];
  for (const build of builds) {
    if (total <= quotaBytes) break;
    if (inUse.has(build.dir)) continue;
    await discardBuild(build.dir);
    total -= build.bytes;
    removed.push(build.dir);
    onLog(
      `removed the build ${build.dir} (${formatBytes(build.bytes)}, least recently used): the build cache is kept under ${formatBytes(quotaBytes)}`,
    );
  }
  if (total > quotaBytes) {
    onLog(
      `the build cache takes ${formatBytes(total)}, over its ${formatBytes(quotaBytes)}: the builds left are in use by running jobs`,
    );
  }
  return { removed, keptBytes: total };
}
