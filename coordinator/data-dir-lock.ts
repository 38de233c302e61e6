import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemfarmError } from "../protocol/errors.ts";
import type { Logger } from "../protocol/logger.ts";

/** What a running coordinator writes into its data dir, so a second one can name it. */
interface LockOwner {
  pid: number;
  url: string | null;
}

/**
 * One coordinator per data dir. A second farm on the same dir would take over its SQLite file and
 * stop its live nats-server as one "left running by an earlier coordinator"; the lock makes it refuse.
 * A lock whose pid is dead is stale (a crash, a kill -9) and is taken over.
 */
export class DataDirLock {
  private constructor(
    private readonly file: string,
    private url: string | null,
  ) {}

  static acquire(dataDir: string, log: Logger): DataDirLock {
    const file = join(dataDir, "coordinator.lock");
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, JSON.stringify({ pid: process.pid, url: null } satisfies LockOwner), {
          flag: "wx",
        });
        return new DataDirLock(file, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = readOwner(file);
      if (owner && isAlive(owner.pid)) {
        throw new MemfarmError(
          "data_dir_locked",
          `the data dir ${dataDir} is in use by a farm already running (pid ${owner.pid}${owner.url ? `, ${owner.url}` : ""}): use that farm, stop it first, or give another --data-dir`,
        );
      }
      log.warn("taking over the data dir lock of a coordinator that is no longer running", {
        pid: owner?.pid ?? null,
      });
      process.stderr.write(
        `memfarm: taking over ${file}, left by pid ${owner?.pid ?? "unknown"}, which is no longer running\n`,
      );
      rmSync(file, { force: true });
    }
    throw new MemfarmError(
      "data_dir_locked",
      `could not lock the data dir ${dataDir}: another farm took it meanwhile`,
    );
  }

  /** Records the farm's URL once its port is bound, for the refusal a second farm prints. */
  setUrl(url: string): void {
    this.url = url;
    writeFileSync(this.file, JSON.stringify({ pid: process.pid, url: this.url } satisfies LockOwner));
  }

  release(): void {
    const owner = readOwner(this.file);
    if (owner?.pid === process.pid) rmSync(this.file, { force: true });
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<LockOwner>;
    return typeof parsed.pid === "number" ? { pid: parsed.pid, url: parsed.url ?? null } : null;
  } catch {
    return null; // half-written or unreadable: no live owner to name
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
