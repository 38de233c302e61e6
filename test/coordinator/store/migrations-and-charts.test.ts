import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { downsample } from "../../../coordinator/dashboard/downsample.ts";
import { MIGRATIONS_DIR } from "../../../coordinator/paths.ts";
import { openDatabase } from "../../../coordinator/store/database.ts";
import { openStore } from "../../../coordinator/store/store.ts";
import type { Sample } from "../../../protocol/messages.ts";
import { newJobRow } from "../../helpers/new-job.ts";

const dir = mkdtempSync(join(tmpdir(), "memfarm-store-charts-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function newJob(store: ReturnType<typeof openStore>): number {
  return store.jobs.insert(newJobRow({ suite: "bigmem", reservationBytes: 2 * 1024 ** 3 })).id;
}

describe("migrations", () => {
  it("takes a database from the old high-water ledger (user_version 4, as landed) to the newest", () => {
    const file = join(dir, "old.sqlite");
    const old = new Database(file);
    for (const name of readdirSync(MIGRATIONS_DIR).sort()) {
      if (Number(name.slice(0, 4)) <= 4) old.exec(readFileSync(join(MIGRATIONS_DIR, name), "utf8"));
    }
    old.pragma("user_version = 4");
    old.close();
    const store = openStore(file);
    const versions = appliedVersions(store);
    const all = readdirSync(MIGRATIONS_DIR).map((name) => Number(name.slice(0, 4)));
    assert.deepEqual(
      versions,
      all.sort((a, b) => a - b),
    );
    store.close();
    openStore(file).close(); // opening again applies nothing twice
  });

  it("applies a lower number that arrives after a higher one (branches merge in any order)", () => {
    const migrations = mkdtempSync(join(dir, "migrations-"));
    const file = join(dir, "late.sqlite");
    writeFileSync(join(migrations, "0001_first.sql"), "CREATE TABLE first (id INTEGER);");
    writeFileSync(join(migrations, "0003_third.sql"), "CREATE TABLE third (id INTEGER);");
    openDatabase(file, migrations).close();
    writeFileSync(join(migrations, "0002_second.sql"), "CREATE TABLE second (id INTEGER);");
    const db = openDatabase(file, migrations);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    assert.ok(tables.some((table) => table.name === "second"));
    db.close();
  });
});

function appliedVersions(store: ReturnType<typeof openStore>): number[] {
  const rows = store.db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as {
    version: number;
  }[];
  return rows.map((row) => row.version);
}

describe("chart points of a long job", () => {
  it("find the same minima, maxima and peak as every sample does", () => {
    const store = openStore(join(dir, "charts.sqlite"));
    const jobId = newJob(store);
    const start = Date.UTC(2026, 0, 1);
    const samples: Sample[] = [];
    // 30,000 samples at 1 Hz (8 h 20 min), a sawtooth and one short spike.
    for (let index = 0; index < 30_000; index += 1) {
      const spike = index === 17_777 ? 5_000_000_000 : 0;
      samples.push({
        at: start + index * 1000,
        rssBytes: 1_000_000 + (index % 1800) * 1000 + spike,
        cpuPercent: index % 100,
        processes: 1 + (index % 3),
      });
    }
    for (let first = 0; first < samples.length; first += 500)
      store.samples.append(jobId, `${jobId}-1`, samples.slice(first, first + 500));
    const points = store.samples.chartPoints(jobId, 100);
    assert.ok(points.length < samples.length / 10, "minutes, not samples");
    const fromMinutes = downsample(points, 100);
    const fromSamples = downsample(samples, 100);
    assert.equal(fromMinutes.length, fromSamples.length);
    const peakOf = (list: Sample[]) =>
      list.reduce((best, sample) => (sample.rssBytes > best.rssBytes ? sample : best));
    assert.equal(peakOf(points).rssBytes, peakOf(samples).rssBytes);
    assert.equal(peakOf(points).at, peakOf(samples).at, "the peak is where it was sampled");
    assert.equal(
      Math.max(...fromMinutes.map((b) => b.maxRssBytes)),
      5_000_000_000 + 1_000_000 + (17_777 % 1800) * 1000,
    );
    assert.equal(
      Math.min(...fromMinutes.map((b) => b.minRssBytes)),
      Math.min(...fromSamples.map((b) => b.minRssBytes)),
    );
    // A chart fine enough that a bucket is under two minutes reads the samples themselves.
    assert.equal(store.samples.chartPoints(jobId, 2000).length, samples.length);
    store.close();
  });
});
