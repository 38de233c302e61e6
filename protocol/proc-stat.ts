import { readdirSync, readFileSync } from "node:fs";

/**
 * /proc/PID/stat, read in one place. The agent samples and kills process
 * trees with it and the coordinator waits for its nats-server to die, so it
 * lives here, the one module both may import.
 */

/** The fields of /proc/PID/stat that memfarm uses (proc(5) numbers them from 1). */
export interface ProcStat {
  /** Field 3: R, S, D, T, ..., Z for a zombie (exited, not yet reaped), X for dead. */
  state: string;
  /** Field 4. */
  ppid: number;
  /** Field 5: the process group, which a build step's make and compilers share. */
  pgrp: number;
  /** Field 14: CPU time in user mode, in clock ticks (USER_HZ). */
  utimeTicks: number;
  /** Field 15: CPU time in kernel mode, in clock ticks. */
  stimeTicks: number;
  /** Field 22: when the process started, in clock ticks since boot. With the pid it names one process, since pids are reused. */
  startTicks: number;
  /** Field 24: resident set size, in pages. */
  rssPages: number;
}

/** The first field after the command name is field 3 of proc(5). */
const FIRST_FIELD_AFTER_COMMAND = 3;

/**
 * Parses the text of a /proc/PID/stat file; null if it is not one. The command
 * name (field 2) is whatever the process called itself, in parentheses, and
 * may hold spaces and parentheses of its own ("(sd-pam)", "(a) b)"), so the
 * fields are counted from after the last ")", never split from the start.
 */
export function parseProcStat(text: string): ProcStat | null {
  const commandEnd = text.lastIndexOf(")");
  if (commandEnd < 0) return null;
  const fields = text
    .slice(commandEnd + 1)
    .trim()
    .split(" ");
  const field = (number: number) => fields[number - FIRST_FIELD_AFTER_COMMAND];
  const whole = (number: number) => Number(field(number));
  const stat: ProcStat = {
    state: field(3) ?? "",
    ppid: whole(4),
    pgrp: whole(5),
    utimeTicks: whole(14),
    stimeTicks: whole(15),
    startTicks: whole(22),
    rssPages: whole(24),
  };
  const numbers = [stat.ppid, stat.pgrp, stat.utimeTicks, stat.stimeTicks, stat.startTicks, stat.rssPages];
  return /^[A-Za-z]$/.test(stat.state) && numbers.every(Number.isSafeInteger) ? stat : null;
}

/** /proc/PID/stat of a process; null if there is no such process (or it ended while being read). */
export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
  } catch {
    return null;
  }
}

/** A process that exists and has not exited: not gone, not a zombie waiting to be reaped, not dead. */
export function isLive(stat: ProcStat | null): stat is ProcStat {
  return stat !== null && stat.state !== "Z" && stat.state !== "X";
}

/** The pids of every process /proc shows (to this user; some may end before they are read). */
export function allPids(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}
