import { setTimeout as sleep } from "node:timers/promises";
import { allPids, isLive, readProcStat } from "../../protocol/proc-stat.ts";

/** How long to wait for a killed group's members to die. */
const GROUP_GONE_MS = 5000;

/**
 * Kills a build step's whole process group with SIGKILL. Every step starts in
 * a group of its own (spawn's `detached`), and make, the shells it starts and
 * the compilers they start all stay in it, so one signal reaches them all.
 */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // The group has no member left.
  }
}

/**
 * Kills the group and waits until no live member is left. Killed orphans stay
 * zombies until init reaps them, which can take seconds in a container, so the
 * members are read from /proc rather than asked with kill(0), which counts zombies.
 */
export async function killGroupAndWait(pgid: number): Promise<void> {
  const until = Date.now() + GROUP_GONE_MS;
  killGroup(pgid);
  while (liveMembersOf(pgid).length > 0 && Date.now() < until) {
    await sleep(20);
    killGroup(pgid);
  }
}

/** The processes of group `pgid` that are not zombies. */
export function liveMembersOf(pgid: number): number[] {
  return allPids().filter((pid) => {
    const stat = readProcStat(pid);
    return isLive(stat) && stat.pgrp === pgid;
  });
}
