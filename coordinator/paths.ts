import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package root (where package.json is), found from this file whether it
 * runs from source or from dist/. Views, suites and migrations live there.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("memfarm: cannot find the package root (no package.json above)");
    dir = parent;
  }
  return dir;
}

export const PACKAGE_ROOT = findPackageRoot();
export const MIGRATIONS_DIR = join(PACKAGE_ROOT, "coordinator", "store", "migrations");
export const VIEWS_DIR = join(PACKAGE_ROOT, "views");
export const DEFAULT_JOBS_DIR = join(PACKAGE_ROOT, "jobs");
