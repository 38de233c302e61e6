import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { allPids, isLive, parseProcStat, readProcStat } from "../../protocol/proc-stat.ts";

/** A /proc/PID/stat line as Linux writes it (52 fields), with the fields memfarm reads set. */
function statLine(command: string, fields: { state?: string; startTicks?: number } = {}): string {
  const after = Array.from({ length: 50 }, (_, index) => String(index + 3));
  after[0] = fields.state ?? "S"; // 3 state
  after[1] = "1"; // 4 ppid
  after[2] = "4242"; // 5 pgrp
  after[11] = "250"; // 14 utime
  after[12] = "50"; // 15 stime
  after[19] = String(fields.startTicks ?? 987654); // 22 starttime
  after[21] = "1024"; // 24 rss
  return `4242 (${command}) ${after.join(" ")}\n`;
}

describe("/proc/PID/stat", () => {
  it("reads the fields after the command name, whatever the name holds", () => {
    for (const command of ["python3", "sd-pam", "(sd-pam)", "a) b (c", "x ) S 7 8 9", ") )"]) {
      assert.deepEqual(parseProcStat(statLine(command)), {
        state: "S",
        ppid: 1,
        pgrp: 4242,
        utimeTicks: 250,
        stimeTicks: 50,
        startTicks: 987654,
        rssPages: 1024,
      });
    }
  });

  it("refuses text that is not a stat line", () => {
    for (const text of [
      "",
      "4242",
      "4242 (python3)",
      "4242 (python3) S 1 2 3",
      statLine("p", { state: "?" }),
    ]) {
      assert.equal(parseProcStat(text), null, JSON.stringify(text));
    }
  });

  it("counts a zombie or a dead process as not live", () => {
    assert.equal(isLive(parseProcStat(statLine("p", { state: "R" }))), true);
    assert.equal(isLive(parseProcStat(statLine("p", { state: "Z" }))), false);
    assert.equal(isLive(parseProcStat(statLine("p", { state: "X" }))), false);
    assert.equal(isLive(null), false);
  });

  it("reads a real process whose command name has spaces and parentheses", async () => {
    const dir = mkdtempSync(join(tmpdir(), "memfarm-proc-stat-"));
    const tricky = join(dir, "a) b (c");
    symlinkSync("/bin/sleep", tricky);
    const child = spawn(tricky, ["30"], { stdio: "ignore", detached: true });
    try {
      await new Promise((resolve) => child.once("spawn", resolve));
      const stat = readProcStat(child.pid as number);
      assert.ok(isLive(stat));
      assert.equal(stat.ppid, process.pid);
      assert.equal(stat.pgrp, child.pid, "detached: the child leads a group of its own");
      assert.ok(stat.startTicks >= (readProcStat(process.pid)?.startTicks ?? Number.POSITIVE_INFINITY));
      assert.ok(allPids().includes(child.pid as number));
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sees a real zombie as not live, and a pid that is gone as nothing", async () => {
    // The exec'd sleep never waits for its background child, which stays a zombie.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const zombie = Number(
        await new Promise<string>((resolve) => parent.stdout.once("data", (chunk) => resolve(String(chunk)))),
      );
      let stat = readProcStat(zombie);
      for (let tries = 0; stat?.state !== "Z" && tries < 100; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        stat = readProcStat(zombie);
      }
      assert.equal(stat?.state, "Z");
      assert.equal(isLive(stat), false);
    } finally {
      parent.kill("SIGKILL");
    }
    await new Promise((resolve) => parent.once("exit", resolve));
    assert.equal(readProcStat(parent.pid as number), null);
  });
});
