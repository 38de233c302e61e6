import type { PlacementAgent, PlacementInput, PlacementJob } from "../../coordinator/placement/index.ts";
import { capacityOf, GB, GiB } from "./hosts.ts";
import { between, pick, seededRandom } from "./rng.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * The throughput benchmark's input: a large farm already half busy and a deep queue, the same for
 * a given seed. Hosts of 128 GB to 1 TB, a quarter aarch64, the big ones in pool=bigmem, a few
 * draining or lost, some with CPython's 22:00–08:00 window (it is 23:00 UTC). Jobs as in the
 * packing trace: bigmem -M24g/-M60g × -j1..-j8 and refleak 1–8 workers; some ask for aarch64 or
 * the bigmem pool, a few run alone.
 */
export function largeFarm(agentCount: number, jobCount: number, seed: number): PlacementInput {
  const random = seededRandom(seed);
  const nowMs = Date.UTC(2026, 10, 24, 23, 0);
  let runningId = 1_000_000;
  const agents: PlacementAgent[] = [];
  for (let index = 0; index < agentCount; index += 1) {
    const memoryGB = pick(random, [128, 128, 128, 128, 256, 256, 256, 500, 500, 1000]);
    const capacityBytes = capacityOf(memoryGB * GB);
    const running = [];
    let used = 0;
    for (let count = between(random, 0, 3); count > 0; count -= 1) {
      const bytes = between(random, 4, Math.floor(capacityBytes / GiB / 3)) * GiB;
      if (used + bytes > capacityBytes) break;
      used += bytes;
      running.push({
        jobId: runningId++,
        reservationBytes: bytes,
        exclusive: false,
        expectedEndMs: nowMs + between(random, -5, 180) * MINUTE_MS,
      });
    }
    const state = random() < 0.02 ? "draining" : random() < 0.01 ? "lost" : "online";
    const labels: Record<string, string> = { arch: random() < 0.25 ? "aarch64" : "x86_64" };
    if (memoryGB >= 500) labels.pool = "bigmem";
    agents.push({
      name: `host-${String(index).padStart(4, "0")}`,
      state,
      capacityBytes,
      labels,
      running,
      blackouts: random() < 0.05 ? [{ fromMinute: 22 * 60, toMinute: 8 * 60 }] : [],
    });
  }
  const queued: PlacementJob[] = [];
  for (let id = 1; id <= jobCount; id += 1) {
    const bigmem = random() < 0.4;
    const memlimit = random() < 0.6 ? 24 : 60;
    const workers = bigmem ? between(random, 1, memlimit === 60 ? 7 : 8) : pick(random, [1, 2, 4, 8]);
    const labels: Record<string, string> = {};
    const where = random();
    if (where < 0.2) labels.arch = "aarch64";
    else if (bigmem && where < 0.3) labels.pool = "bigmem";
    queued.push({
      id,
      // Submitted over the last day, one every ~9 seconds.
      submittedMs: nowMs - DAY_MS + id * (DAY_MS / jobCount),
      priority: random() < 0.1 ? "high" : random() < 0.11 ? "low" : "normal",
      reservationBytes: (bigmem ? 4 + workers * memlimit : 2 + workers * 4) * GiB,
      labels,
      exclusive: random() < 0.01,
      expectedDurationMs: bigmem ? between(random, 30, 95) * MINUTE_MS : between(random, 1, 3) * HOUR_MS,
    });
  }
  return { nowMs, agents, queued };
}
