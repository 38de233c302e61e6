import type { Host } from "./hosts.ts";
import type { TraceJob } from "./trace.ts";

/**
 * The lower bound on the makespan: the larger of (Σ reservation × duration) / total capacity
 * and the longest job. No schedule can beat it, but it assumes memory is one pool that any job may use
 * any part of.
 */
export function simpleLowerBound(hosts: Host[], trace: TraceJob[]): { areaMs: number; longestMs: number } {
  const capacity = hosts.reduce((sum, host) => sum + host.capacityBytes, 0);
  const area = trace.reduce((sum, job) => sum + job.reservationBytes * job.durationMs, 0);
  return { areaMs: area / capacity, longestMs: Math.max(...trace.map((job) => job.durationMs)) };
}

/**
 * A stronger bound that knows two facts of the hosts: a job runs only on a host at least its size,
 * and a host too small for two of the jobs that the smallest hosts cannot take runs one at a time. It explains why some
 * traces cannot come near the simple bound: when many jobs fit only the larger hosts, and only one
 * of them at a time fits a middle one, those hosts are the bottleneck whatever the schedule.
 *
 * For a makespan T it relaxes scheduling to fractions of jobs (so it stays a lower bound) and checks:
 * all the work fits the farm's capacity × T; and the jobs too big for the smallest hosts fit on the
 * others, where each host whose half is below such a job offers at most T of "one at a time" slot
 * time, best spent on the largest of those jobs, and the rest needs the remaining hosts' capacity × T.
 * The smallest T that passes, by bisection, is the bound. Meant for farms like the reference one
 * (the largest host above twice the middle ones); elsewhere it only falls back to weaker checks.
 */
export function fragmentationLowerBound(hosts: Host[], trace: TraceJob[]): number {
  const capacity = hosts.reduce((sum, host) => sum + host.capacityBytes, 0);
  const area = trace.reduce((sum, job) => sum + job.reservationBytes * job.durationMs, 0);
  const smallest = Math.min(...hosts.map((host) => host.capacityBytes));
  const big = trace.filter((job) => job.reservationBytes > smallest);
  const bigArea = big.reduce((sum, job) => sum + job.reservationBytes * job.durationMs, 0);
  const larger = hosts.filter((host) => host.capacityBytes > smallest);
  // Hosts where no two big jobs fit together: one big job at a time.
  const smallestBig = Math.min(...big.map((job) => job.reservationBytes));
  const slotted = larger.filter((host) => host.capacityBytes < 2 * smallestBig);
  const pooled = larger.filter((host) => !slotted.includes(host));
  const pooledCapacity = pooled.reduce((sum, host) => sum + host.capacityBytes, 0);
  const slottedLargest = Math.max(0, ...slotted.map((host) => host.capacityBytes));
  const slottable = big
    .filter((job) => job.reservationBytes <= slottedLargest)
    .sort((a, b) => b.reservationBytes - a.reservationBytes);

  const feasible = (makespanMs: number): boolean => {
    if (area > capacity * makespanMs) return false;
    let slotMs = slotted.length * makespanMs;
    let moved = 0;
    for (const job of slottable) {
      if (slotMs <= 0) break;
      const share = Math.min(slotMs, job.durationMs);
      moved += job.reservationBytes * share;
      slotMs -= share;
    }
    return bigArea - moved <= pooledCapacity * makespanMs;
  };
  let low = Math.max(...trace.map((job) => job.durationMs));
  if (feasible(low)) return low;
  let high = low;
  while (!feasible(high)) high *= 2;
  while (high - low > 1000) {
    const middle = (low + high) / 2;
    if (feasible(middle)) high = middle;
    else low = middle;
  }
  return high;
}
