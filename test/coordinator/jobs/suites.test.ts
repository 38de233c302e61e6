import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSuites, regrtestArgs, reservationFor } from "../../../coordinator/jobs/suites.ts";
import { DEFAULT_JOBS_DIR } from "../../../coordinator/paths.ts";

const GiB = 1024 ** 3;

describe("suites", () => {
  it("loads the shipped suites with the builders' arguments", () => {
    const suites = loadSuites(DEFAULT_JOBS_DIR);
    assert.deepEqual([...suites.keys()].sort(), ["bigmem", "bigmem-smoke", "refleak"]);
    const bigmem = suites.get("bigmem");
    assert.ok(bigmem);
    assert.ok(bigmem.args.includes("-uall,extralargefile"));
    assert.ok(bigmem.args.includes("--timeout=6000"));
    assert.ok(bigmem.args.includes("--junit-xml"));
    assert.equal(bigmem.memlimitBytes, 60 * GiB);
    const refleak = suites.get("refleak");
    assert.ok(refleak);
    assert.deepEqual(refleak.args.slice(0, 3), ["-R", "3:3", "-u-cpu"]);
    assert.ok(!refleak.args.includes("--junit-xml"), "refleak runs without JUnit XML");
  });

  it("reserves workers times the memlimit plus overhead", () => {
    const suites = loadSuites(DEFAULT_JOBS_DIR);
    const bigmem = suites.get("bigmem");
    assert.ok(bigmem);
    assert.equal(reservationFor(bigmem, 60 * GiB), 4 * 60 * GiB + 4 * GiB);
    assert.deepEqual(regrtestArgs(bigmem, 24 * GiB, ["test_bigmem"]).slice(-4), [
      "-j4",
      "-M",
      "24G",
      "test_bigmem",
    ]);
  });

  it("stops on a broken file with the file and field named", () => {
    const dir = mkdtempSync(join(tmpdir(), "memfarm-suites-"));
    writeFileSync(
      join(dir, "good.json"),
      JSON.stringify({ description: "x", args: [], workers: 1, memlimit: "2G", timeoutSeconds: 60 }),
    );
    writeFileSync(
      join(dir, "broken.json"),
      JSON.stringify({ description: "x", args: [], workers: "eight", memlimit: "2G", timeoutSeconds: 60 }),
    );
    assert.throws(
      () => loadSuites(dir),
      (error: Error) => {
        assert.match(error.message, /broken\.json/);
        assert.match(error.message, /field "workers"/);
        return true;
      },
    );
  });

  it("refuses options the suite's own fields set, and unknown fields", () => {
    const dir = mkdtempSync(join(tmpdir(), "memfarm-suites-"));
    writeFileSync(
      join(dir, "a.json"),
      JSON.stringify({ description: "x", args: ["-j8"], workers: 1, memlimit: "2G", timeoutSeconds: 60 }),
    );
    assert.throws(() => loadSuites(dir), /a\.json.*"args".*workers/);
    writeFileSync(
      join(dir, "a.json"),
      JSON.stringify({ description: "x", args: [], workers: 1, memlimit: "1G", timeoutSeconds: 60 }),
    );
    assert.throws(() => loadSuites(dir), /a\.json.*"memlimit".*2 GiB/);
    writeFileSync(
      join(dir, "a.json"),
      JSON.stringify({ description: "x", args: [], workrs: 1, timeoutSeconds: 60 }),
    );
    assert.throws(() => loadSuites(dir), /a\.json.*"workrs"/);
  });
});
