import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Finished builds, one directory per commit and configure flags:
 * `builds/<commit>-<flags hash>/`. A build counts only once its marker file is
 * there, and the marker is written after make succeeded, so a crash or a
 * failure mid-build never leaves something that looks done.
 */
export const BUILT_MARKER = ".memfarm-built.json";

export interface BuiltMarker {
  commit: string;
  configureFlags: string[];
  python: string;
  builtAt: string;
}

/** The same flags in the same order give the same build; order matters to configure (the last one wins). */
export function flagsHash(flags: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(flags)).digest("hex").slice(0, 12);
}

export function buildDirFor(buildsDir: string, commit: string, flags: readonly string[]): string {
  return join(buildsDir, `${commit}-${flagsHash(flags)}`);
}

/** The interpreter a finished build left, or null when the directory holds no finished build. */
export async function readBuilt(dir: string): Promise<BuiltMarker | null> {
  let marker: BuiltMarker;
  try {
    marker = JSON.parse(await readFile(join(dir, BUILT_MARKER), "utf8")) as BuiltMarker;
  } catch {
    return null;
  }
  if (typeof marker.python !== "string" || typeof marker.commit !== "string") return null;
  try {
    await access(marker.python, constants.X_OK);
  } catch {
    return null;
  }
  return marker;
}

/** Records a finished build; written to a temporary name and renamed, so it is never seen half-written. */
export async function markBuilt(dir: string, marker: BuiltMarker): Promise<void> {
  const path = join(dir, BUILT_MARKER);
  const partial = `${path}.partial`;
  await writeFile(partial, `${JSON.stringify(marker, null, 2)}\n`);
  await rename(partial, path);
}

/** Removes what a failed, canceled or interrupted build left. */
export async function discardBuild(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
