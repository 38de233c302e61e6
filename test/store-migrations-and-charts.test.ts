import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { downsample } from "../coordinator/dashboard/downsample.ts";
import { MIGRATIONS_DIR } from "../coordinator/paths.ts";
import { openStore } from "../coordinator/store/store.ts";
import type { Sample } from "../protocol/messages.ts";

const dir = mkdtempSync(join(tmpdir(), "memfarm-store-charts-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function newJob(store: ReturnType<typeof openStore>): number {
  return store.jobs.insert({
    suite: "bigmem",
    priority: "normal",
    memlimitBytes: 2 * 1024 ** 3,
    reservationBytes: 2 * 1024 ** 3,
    python: "/usr/bin/python3",
    ref: null,
    repo: null,
    configureFlags: [],
    noOutputTimeoutSeconds: 0,
    exclusive: false,
    scheduledBytes: null,
    tests: [],
    labels: {},
    provenance: { source: "cli", requester: "test" },
    args: [],
    timeoutSeconds: 600,
  }).id;
}

describe("migrations that arrive out of order", () => {
  it("applies 0008 to a database that applied 0009 under the old high-water ledger", () => {
    const file = join(dir, "old.sqlite");
    const old = new Database(file);
    // What the old runner left: every migration up to 0009 but 0008, user_version 9.
    for (const name of readdirSync(MIGRATIONS_DIR).sort()) {
      const version = Number(name.slice(0, 4));
      if (version > 9 || version === 8) continue;
      old.exec(readFileSync(join(MIGRATIONS_DIR, name), "utf8"));
    }
    old.pragma("user_version = 9");
    old.close();
    const store = openStore(file);
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    assert.ok(tables.some((table) => table.name === "sample_minutes"));
    const versions = (
      store.db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as {
        version: number;
      }[]
    ).map((row) => row.version);
    assert.ok(versions.includes(8) && versions.includes(9));
    store.close();
    // Opening again applies nothing twice.
    openStore(file).close();
  });
});

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
