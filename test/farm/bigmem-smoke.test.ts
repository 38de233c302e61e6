import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { finished, startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";

const GiB = 1024 ** 3;

/**
 * The README's first job, for real: the bigmem-smoke suite (test_bigmem with
 * -M 2G) through the whole farm. About a minute and 2 GiB on a laptop.
 */
describe("the bigmem-smoke suite on a real CPython", () => {
  let farm: TestFarm;
  before(async () => {
    farm = await startFarm();
  });
  after(async () => {
    await farm?.stop();
  });

  it("passes, and its true peak shows the 2 GiB bigmem tests really ran", async () => {
    const python = findTestPython();
    const queued = await farm.submit({ suite: "bigmem-smoke", python });
    assert.equal(queued.memlimitBytes, 2 * GiB);
    assert.deepEqual(queued.args.slice(-3), ["-M", "2G", "test_bigmem"]);
    const job = await farm.waitFor(queued.id, finished, 600_000);
    assert.equal(job.status, "passed", `${job.error} ${JSON.stringify(job.failedTests)}`);
    assert.ok((job.peakRssBytes ?? 0) > 1 * GiB, `peak ${job.peakRssBytes} bytes`);
    assert.ok((job.peakRssBytes ?? 0) < job.reservationBytes, "the peak stayed within the reservation");
    assert.ok(job.counts && job.counts.run > 100, JSON.stringify(job.counts));
    const { samples } = (await farm.api(`/jobs/${job.id}/samples`)).body as {
      samples: { rssBytes: number }[];
    };
    assert.ok(samples.length > 5, "the job was sampled over time");
  });
});
