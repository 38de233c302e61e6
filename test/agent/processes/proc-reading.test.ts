import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { liveMembersOf } from "../../../agent/cpython/process-group.ts";
import { JobProcessRecords } from "../../../agent/processes/leftover-jobs.ts";
import { memoryOf, ProcReader, peakRssOf, startTimeOf } from "../../../agent/processes/proc-reading.ts";
import { processExists, SeenProcesses } from "../../../agent/processes/process-tree.ts";
import { recordingLogger } from "../../helpers/recording-logger.ts";

const children: ChildProcess[] = [];

/** A sleeping child in a process group of its own, as the agent starts its tests and build steps. */
async function sleeper(): Promise<number> {
  const child = spawn("sleep", ["30"], { stdio: "ignore", detached: true });
  children.push(child);
  await new Promise((resolve) => child.once("spawn", resolve));
  return child.pid as number;
}

async function ended(pid: number): Promise<void> {
  const child = children.find((each) => each.pid === pid);
  if (child && child.exitCode === null && child.signalCode === null) {
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

describe("reading processes from /proc", () => {
  it("gives a process's start time as a number, and null once it is gone", async () => {
    const pid = await sleeper();
    const started = startTimeOf(pid);
    assert.equal(typeof started, "number");
    assert.equal(startTimeOf(pid), started, "the same process keeps its start time");
    process.kill(pid, "SIGKILL");
    await ended(pid);
    assert.equal(startTimeOf(pid), null);
    assert.equal(processExists(pid), false);
  });

  it("samples CPU time and resident memory of a live process", () => {
    const reader = new ProcReader();
    try {
      const reading = reader.stat(process.pid);
      assert.ok(reading !== null);
      assert.ok(reading.rssBytes > 1024 * 1024, "node holds more than a MiB");
      assert.ok(reading.cpuTicks >= 0);
      assert.ok((reader.highWaterMark(process.pid) ?? 0) >= reading.rssBytes / 2);
    } finally {
      reader.close();
    }
  });

  it("samples from statm and schedstat what stat gives, and counts CPU as it is spent", () => {
    const reader = new ProcReader();
    try {
      const before = reader.sample(process.pid);
      const stat = reader.stat(process.pid);
      assert.ok(before !== null && stat !== null);
      assert.ok(Math.abs(before.rssBytes - stat.rssBytes) < 16 * 1024 * 1024, "the same RSS, give or take");
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // Spend CPU: 300 ms is 30 clock ticks.
      }
      const after = reader.sample(process.pid);
      assert.ok(after !== null);
      assert.ok(
        after.cpuTicks - before.cpuTicks >= 15,
        `CPU grew by ${after.cpuTicks - before.cpuTicks} ticks`,
      );
    } finally {
      reader.close();
    }
  });

  it("gives no sample and no mark reset for a process that is gone, and resets a live one's mark", async () => {
    const reader = new ProcReader();
    try {
      const pid = await sleeper();
      assert.ok(reader.sample(pid) !== null);
      assert.equal(reader.clearHighWaterMark(pid), true);
      process.kill(pid, "SIGKILL");
      await ended(pid);
      assert.equal(reader.sample(pid), null, "gone through the files kept open, too");
      assert.equal(reader.clearHighWaterMark(pid), false);
    } finally {
      reader.close();
    }
  });

  it("reads resident memory and its high-water mark from /proc/PID/status", async () => {
    const memory = memoryOf(process.pid);
    assert.ok(memory !== null && memory.rss > 1024 * 1024 && memory.hwm >= memory.rss);
    assert.ok((peakRssOf(process.pid) ?? 0) >= memory.rss);
    const pid = await sleeper();
    process.kill(pid, "SIGKILL");
    await ended(pid);
    assert.equal(memoryOf(pid), null);
    assert.equal(peakRssOf(pid), null);
  });

  it("remembers seen processes by pid and start time, and drops those that ended", async () => {
    const [first, second] = [await sleeper(), await sleeper()];
    const seen = new SeenProcesses();
    seen.remember([first, second]);
    assert.deepEqual(seen.alive().sort(), [first, second].sort());
    process.kill(first, "SIGKILL");
    await ended(first);
    assert.deepEqual(seen.alive(), [second]);
  });

  it("lists the live members of a process group", async () => {
    const leader = await sleeper();
    assert.deepEqual(liveMembersOf(leader), [leader]);
    process.kill(leader, "SIGKILL");
    await ended(leader);
    assert.deepEqual(liveMembersOf(leader), []);
  });

  it("kills a test an earlier agent left running, and not a process that reused its pid", async () => {
    const dir = mkdtempSync(join(tmpdir(), "memfarm-leftovers-"));
    try {
      const records = new JobProcessRecords(dir);
      const leftover = await sleeper();
      const other = await sleeper();
      records.record("1-1", leftover);
      records.record("2-1", other);
      // As if `other`'s pid had belonged to an earlier process: same pid, another start time.
      const [pid, started] = readFileSync(join(dir, "2-1"), "utf8").trim().split(" ").map(Number);
      writeFileSync(join(dir, "2-1"), `${pid} ${(started ?? 0) - 1}\n`);
      assert.deepEqual(records.killLeftovers(recordingLogger()), ["1-1"]);
      await ended(leftover);
      assert.equal(processExists(leftover), false);
      assert.equal(processExists(other), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
