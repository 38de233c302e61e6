/** Host sizes as vendors sell them (GB = 10^9 bytes) and what memfarm offers of them to jobs. */

export const GB = 1e9;
export const GiB = 1024 ** 3;

/** The coordinator's headroom for the OS and the agent: the larger of 1 GiB and 5% (see README). */
export function capacityOf(memoryBytes: number): number {
  return Math.floor(memoryBytes - Math.max(GiB, memoryBytes * 0.05));
}

export interface Host {
  name: string;
  memoryBytes: number;
  capacityBytes: number;
  labels: Record<string, string>;
}

export function host(name: string, memoryGB: number, labels: Record<string, string> = {}): Host {
  const memoryBytes = memoryGB * GB;
  return { name, memoryBytes, capacityBytes: capacityOf(memoryBytes), labels };
}

/** The reference farm: one 500 GB, two 256 GB and four 128 GB hosts. */
export function referenceFarm(): Host[] {
  return [
    host("big-500", 500),
    host("mid-256-1", 256),
    host("mid-256-2", 256),
    ...[1, 2, 3, 4].map((index) => host(`small-128-${index}`, 128)),
  ];
}
