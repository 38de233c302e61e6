import { constants, readdirSync, rmSync } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { MemfarmError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import { type BackupSummary, backupDatabase } from "../store/backup.ts";

export interface BackupSchedule {
  /** Where the backups go; only files named like BACKUP_NAME are ever removed from it. */
  dir: string;
  /** How many to keep: after each backup, the oldest beyond this are removed. */
  keep: number;
  /** The time of day (UTC) of the nightly backup, in minutes after midnight. */
  atMinuteUtc: number;
}

export type BackupOutcome =
  | { ok: true; summary: BackupSummary; removed: string[] }
  | { ok: false; error: string };

export interface NightlyBackupsDeps {
  databaseFile: string;
  schedule: BackupSchedule;
  log: Logger;
  /** The clock; a test gives its own, then calls runNow() instead of waiting for the night. */
  now?: () => Date;
  /** Told of every backup, good or failed (the metrics count them). */
  onOutcome?: (outcome: BackupOutcome, at: Date) => void;
}

/** `memfarm-2026-12-03T030000Z.sqlite`: the time it was taken, UTC; sorting the names sorts the times. */
const BACKUP_NAME = /^memfarm-\d{4}-\d{2}-\d{2}T\d{6}Z\.sqlite$/;
/** What backupDatabase writes first and renames once checked; one left behind is from a crash. */
const PARTIAL_NAME = /^memfarm-\d{4}-\d{2}-\d{2}T\d{6}Z\.sqlite\.partial-[0-9a-f]{8}$/;

export function backupFileName(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/:/g, "");
  return `memfarm-${stamp}.sqlite`;
}

/** The first time of day `atMinuteUtc` strictly after `after`. */
export function nextBackupAt(after: Date, atMinuteUtc: number): Date {
  const day = Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate());
  const today = day + atMinuteUtc * 60_000;
  return new Date(today > after.getTime() ? today : today + 86_400_000);
}

/** Creates the backup folder (owner only: the copies hold what the database does) and checks it is writable. */
export async function ensureBackupDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.W_OK);
  } catch (error) {
    throw new MemfarmError(
      "bad_backup_dir",
      `--backup-dir ${dir}: the folder cannot be created or written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give one this user can write`,
    );
  }
}

/**
 * A backup every night at --backup-at (UTC) into --backup-dir, through the same online backup as
 * `memfarm backup` (SQLite's backup API: consistent while the farm writes; written to a temporary
 * name and renamed once checked), then the oldest of its own backups beyond --backup-keep are
 * removed. A backup that fails is logged and counted; the farm goes on, and the next night tries
 * again. Lifecycle: start() → (backups) → stop(), which waits for a backup in flight.
 */
export class NightlyBackups {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<BackupOutcome> | null = null;
  private stopped = false;
  private readonly now: () => Date;

  constructor(private readonly deps: NightlyBackupsDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  start(): void {
    this.stopped = false;
    this.scheduleNext();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** When the next backup runs. */
  get nextAt(): Date {
    return nextBackupAt(this.now(), this.deps.schedule.atMinuteUtc);
  }

  /** Takes a backup now (or waits for the one in flight) and prunes; never throws. */
  runNow(): Promise<BackupOutcome> {
    this.running ??= this.backUp().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const at = this.nextAt;
    // setTimeout's delay can run short or long (a suspended VM): on waking early, it waits again.
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.now().getTime() < at.getTime() - 1000) return this.scheduleNext();
      void this.runNow().finally(() => this.scheduleNext());
    }, at.getTime() - this.now().getTime());
    this.timer.unref();
  }

  private async backUp(): Promise<BackupOutcome> {
    const { schedule, log, databaseFile } = this.deps;
    const at = this.now();
    let outcome: BackupOutcome;
    try {
      this.removeLeftovers();
      const summary = await backupDatabase(databaseFile, join(schedule.dir, backupFileName(at)));
      const removed = this.prune();
      outcome = { ok: true, summary, removed };
      log.info("nightly backup taken", {
        file: summary.file,
        bytes: summary.bytes,
        jobs: summary.jobs,
        removed: removed.length,
      });
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown.message : String(thrown);
      outcome = { ok: false, error };
      log.error("nightly backup failed; the farm goes on, the next one is tomorrow", {
        dir: schedule.dir,
        error,
      });
    }
    try {
      this.deps.onOutcome?.(outcome, at);
    } catch {
      // A broken listener does not make a backup fail.
    }
    return outcome;
  }

  /** The oldest of its own backups beyond `keep`; anything else in the folder is left alone. */
  private prune(): string[] {
    const { dir, keep } = this.deps.schedule;
    const ours = readdirSync(dir)
      .filter((name) => BACKUP_NAME.test(name))
      .sort();
    const removed = ours.slice(0, Math.max(0, ours.length - keep)).map((name) => join(dir, name));
    for (const file of removed) rmSync(file, { force: true });
    return removed;
  }

  /** A backup cut off by a crash leaves its temporary file; only this farm writes them, one at a time. */
  private removeLeftovers(): void {
    const { dir } = this.deps.schedule;
    for (const name of readdirSync(dir))
      if (PARTIAL_NAME.test(name)) rmSync(join(dir, name), { force: true });
  }
}
