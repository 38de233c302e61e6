import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { assertPassedExactlyOnce } from "../chaos/helpers.ts";
import { freePort, NatsNode } from "../helpers/nats-servers.ts";
import { ProcessFarm } from "../helpers/process-farm.ts";
import { findTestPython } from "../helpers/python.ts";
import { until } from "../helpers/until.ts";

/** A small tmpfs for the coordinator's data dir, so that a test can fill it; null if this machine cannot mount one. */
function mountSmallDisk(dir: string, size: string): string | null {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { stdio: "pipe" });
    return null;
  } catch (thrown) {
    return `cannot mount a tmpfs here (${String(thrown).split("\n")[0]}); run as root`;
  }
}

/** Writes a file that takes every free byte of the disk under `dir`. */
function fillDisk(file: string): void {
  const chunk = Buffer.alloc(1024 * 1024, 1);
  try {
    for (;;) writeFileSync(file, chunk, { flag: "a" });
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code !== "ENOSPC") throw thrown;
  }
  // The last few KiB, so that not even a WAL frame fits.
  const small = Buffer.alloc(4096, 1);
  try {
    for (;;) writeFileSync(file, small, { flag: "a" });
  } catch {
    // Full.
  }
}

/**
 * The coordinator's disk fills while 50 jobs stream their logs: nothing is acknowledged that was
 * not written, submits get 503 naming the disk, /healthz says so, and once space is freed every
 * job's log is whole, each line once. JetStream runs on another disk (its own nats-server), as in
 * a production farm with an external NATS.
 */
describe("faults: the coordinator's disk fills up", { timeout: 240_000 }, () => {
  const JOBS = 50;
  const farm = new ProcessFarm(25, { smallNaps: true });
  let nats: NatsNode;
  let python: string;
  const skip = mountSmallDisk(farm.dataDir, "24m");
  const filler = join(farm.dataDir, "filler");

  before(async () => {
    if (skip) return;
    python = findTestPython();
    nats = NatsNode.single(join(farm.dir, "nats"), await freePort());
    await nats.start();
    farm.natsUrls = [nats.url];
    await farm.startCoordinator();
    await farm.startAgent("disk-a1");
    await farm.startAgent("disk-a2");
  });
  after(async () => {
    await farm.stop().catch(() => undefined);
    await nats?.stop();
    if (!skip) execFileSync("umount", ["-l", farm.dataDir]);
    rmSync(farm.dir, { recursive: true, force: true });
  });

  it("holds reports back while full, answers 503 naming the disk, and loses nothing once space is freed", {
    skip: skip ?? false,
  }, async () => {
    const jobs = [];
    for (let n = 0; n < JOBS; n += 1) jobs.push(await farm.submitNap(python));
    // Most of them streaming at once (the first may be done before the last has started).
    await until(
      async () => {
        const listed = (await farm.api(`/jobs?status=running&limit=${JOBS}`)).body.jobs as unknown[];
        return listed.length >= JOBS - 5;
      },
      `${JOBS} jobs running`,
      90_000,
    );
    const job = jobs[0] as (typeof jobs)[number];
    fillDisk(filler);

    await until(
      async () => {
        const health = await fetch(`${farm.url}/healthz`);
        const body = (await health.json()) as { error?: { message: string } };
        return health.status === 503 && /disk is full/.test(body.error?.message ?? "");
      },
      "/healthz reports the full disk",
      15_000,
    );
    const refused = await farm.api("/jobs", { suite: "nap", python, tests: ["test_nap"] });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, "storage_unavailable");
    assert.match(refused.body.error.message, /memfarm\.sqlite: its disk is full/);
    // Reads still work while full.
    assert.equal((await farm.api(`/jobs/${job.id}`)).status, 200);
    // The jobs end on their agents meanwhile; their results wait too.
    await new Promise((resolve) => setTimeout(resolve, 12_000));

    rmSync(filler);
    await until(
      async () => (await fetch(`${farm.url}/healthz`)).status === 200,
      "/healthz is 200 again",
      15_000,
    );
    for (const one of jobs)
      await assertPassedExactlyOnce(farm, await farm.waitUntilFinished(one.id, 120_000));
    const next = await farm.submitNap(python);
    assert.equal(next.status, "queued", "submits work again");
  });
});
