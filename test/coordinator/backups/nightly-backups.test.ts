import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, mock } from "node:test";
import {
  type BackupOutcome,
  backupFileName,
  NightlyBackups,
  nextBackupAt,
} from "../../../coordinator/backups/nightly-backups.ts";
import { databaseFileIn, restoreDatabase } from "../../../coordinator/store/backup.ts";
import { openStore } from "../../../coordinator/store/store.ts";
import { silentLogger } from "../../../protocol/logger.ts";
import { recordOldJob } from "../../helpers/old-jobs.ts";

const dir = mkdtempSync(join(tmpdir(), "memfarm-nightly-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("nightly backups", () => {
  it("runs at the given time of day, UTC: later today, or tomorrow once it has passed", () => {
    const at = (iso: string) => new Date(iso);
    assert.deepEqual(nextBackupAt(at("2026-12-03T02:59:59Z"), 180), at("2026-12-03T03:00:00Z"));
    assert.deepEqual(nextBackupAt(at("2026-12-03T03:00:00Z"), 180), at("2026-12-04T03:00:00Z"));
    assert.deepEqual(nextBackupAt(at("2026-12-31T23:30:00Z"), 0), at("2027-01-01T00:00:00Z"));
    assert.equal(backupFileName(at("2026-12-03T03:00:07.123Z")), "memfarm-2026-12-03T030007Z.sqlite");
  });

  it("keeps the newest N of its own backups, leaves other files alone, and one restores to the same jobs", async () => {
    const dataDir = join(dir, "farm");
    const backupDir = join(dir, "backups");
    mkdirSync(dataDir);
    mkdirSync(backupDir);
    const store = openStore(databaseFileIn(dataDir));
    writeFileSync(join(backupDir, "memfarm-by-hand.sqlite"), "an admin's own copy");
    writeFileSync(
      join(backupDir, "memfarm-2026-11-01T030000Z.sqlite.partial-0badf00d"),
      "cut off by a crash",
    );
    let clock = new Date("2026-12-01T03:00:00Z");
    const outcomes: BackupOutcome[] = [];
    const backups = new NightlyBackups({
      databaseFile: databaseFileIn(dataDir),
      schedule: { dir: backupDir, keep: 3, atMinuteUtc: 180 },
      log: silentLogger,
      now: () => clock,
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    const jobsAt: number[][] = [];
    for (let night = 0; night < 5; night += 1) {
      // Each day's work, written while the night's backup runs.
      recordOldJob(store, { endedDaysAgo: 0, runMs: 10 * 60_000, logLines: 50, testFiles: 3 });
      const during = recordOldJob(store, { endedDaysAgo: null, runMs: 60_000 });
      const taken = backups.runNow();
      store.logs.append(during.jobId, during.attemptId, [{ stream: "stdout", text: "while it copies" }]);
      const outcome = await taken;
      assert.ok(outcome.ok, outcome.ok ? "" : outcome.error);
      jobsAt.push(store.jobs.list({ limit: 1000 }).jobs.map((job) => job.id));
      clock = new Date(clock.getTime() + 86_400_000);
    }
    const names = readdirSync(backupDir).sort();
    assert.deepEqual(names, [
      "memfarm-2026-12-03T030000Z.sqlite",
      "memfarm-2026-12-04T030000Z.sqlite",
      "memfarm-2026-12-05T030000Z.sqlite",
      "memfarm-by-hand.sqlite",
    ]);
    assert.equal(statSync(join(backupDir, names[0] as string)).mode & 0o777, 0o600, "the owner's only");
    assert.deepEqual(
      outcomes.map((outcome) => (outcome.ok ? outcome.removed.length : -1)),
      [0, 0, 0, 1, 1],
    );

    // The 4th night's backup, restored into a new farm: the jobs the farm had then.
    const restoredDir = join(dir, "restored");
    mkdirSync(restoredDir);
    restoreDatabase(join(backupDir, "memfarm-2026-12-04T030000Z.sqlite"), restoredDir);
    const restored = openStore(databaseFileIn(restoredDir));
    const original = (id: number) => store.jobs.get(id);
    const restoredJobs = restored.jobs.list({ limit: 1000 }).jobs;
    assert.deepEqual(
      restoredJobs.map((job) => job.id),
      jobsAt[3],
    );
    for (const job of restoredJobs) {
      const then = original(job.id);
      assert.equal(job.suite, then?.suite);
      assert.equal(job.peakRssBytes, then?.peakRssBytes);
      assert.deepEqual(restored.tests.list(job.id), store.tests.list(job.id));
    }
    restored.close();
    store.close();
  });

  it("takes them at --backup-at by the clock, night after night (fake time)", async () => {
    const dataDir = join(dir, "farm-clock");
    const backupDir = join(dir, "backups-clock");
    mkdirSync(dataDir);
    mkdirSync(backupDir);
    openStore(databaseFileIn(dataDir)).close();
    // Only setTimeout and Date are faked: SQLite's backup steps on setImmediate, which runs for real.
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.parse("2026-12-03T02:59:00Z") });
    let taken: () => void = () => undefined;
    let count = 0;
    const backups = new NightlyBackups({
      databaseFile: databaseFileIn(dataDir),
      schedule: { dir: backupDir, keep: 7, atMinuteUtc: 180 },
      log: silentLogger,
      onOutcome: () => {
        count += 1;
        taken();
      },
    });
    const turns = async (n: number) => {
      for (let turn = 0; turn < n; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    };
    try {
      backups.start();
      assert.equal(backups.nextAt.toISOString(), "2026-12-03T03:00:00.000Z");
      mock.timers.tick(59_000);
      await turns(50); // time enough for a backup of this small file to finish, had one started
      assert.equal(count, 0, "not before 03:00");
      const first = new Promise<void>((resolve) => {
        taken = resolve;
      });
      mock.timers.tick(1_000);
      await first;
      assert.deepEqual(readdirSync(backupDir), ["memfarm-2026-12-03T030000Z.sqlite"]);
      await turns(1); // the next night is scheduled once this one is done
      assert.equal(backups.nextAt.toISOString(), "2026-12-04T03:00:00.000Z");
      const second = new Promise<void>((resolve) => {
        taken = resolve;
      });
      mock.timers.tick(86_400_000);
      await second;
      assert.deepEqual(readdirSync(backupDir).sort(), [
        "memfarm-2026-12-03T030000Z.sqlite",
        "memfarm-2026-12-04T030000Z.sqlite",
      ]);
    } finally {
      await backups.stop();
      mock.timers.reset();
    }
  });

  it("logs and counts a failed backup, and never throws", async () => {
    const dataDir = join(dir, "farm-2");
    mkdirSync(dataDir);
    openStore(databaseFileIn(dataDir)).close();
    const gone = join(dir, "removed-backup-dir");
    const outcomes: BackupOutcome[] = [];
    const backups = new NightlyBackups({
      databaseFile: databaseFileIn(dataDir),
      schedule: { dir: gone, keep: 7, atMinuteUtc: 180 },
      log: silentLogger,
      onOutcome: (outcome) => outcomes.push(outcome),
    });
    backups.start();
    const outcome = await backups.runNow();
    await backups.stop();
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? "" : outcome.error, /removed-backup-dir/);
    assert.equal(outcomes.length, 1);
    assert.equal(existsSync(gone), false);
  });
});
