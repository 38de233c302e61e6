import type { AgentResource } from "../../protocol/resources.ts";

/** A host's memory as one bar: used, reserved beyond use, free of its capacity, and the headroom kept back. */
export interface HostBar {
  memoryBytes: number;
  capacityBytes: number;
  usedBytes: number;
  reservedBytes: number;
  /** Capacity not reserved and not used: what new jobs can still get. */
  freeBytes: number;
  /** Widths in percent of the host's memory. */
  usedPercent: number;
  reservedUnusedPercent: number;
  freePercent: number;
  headroomPercent: number;
  overcommitted: boolean;
}

const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0);

export function hostBar(agent: AgentResource): HostBar {
  const { memoryBytes, capacityBytes, usedBytes, reservedBytes } = agent;
  const whole = Math.max(memoryBytes, capacityBytes, usedBytes, 1);
  const taken = Math.max(usedBytes, reservedBytes);
  const freeBytes = Math.max(0, capacityBytes - taken);
  return {
    memoryBytes,
    capacityBytes,
    usedBytes,
    reservedBytes,
    freeBytes,
    usedPercent: percent(usedBytes, whole),
    reservedUnusedPercent: percent(Math.max(0, reservedBytes - usedBytes), whole),
    freePercent: percent(freeBytes, whole),
    headroomPercent: percent(Math.max(0, memoryBytes - Math.max(capacityBytes, taken)), whole),
    overcommitted: taken > capacityBytes,
  };
}
