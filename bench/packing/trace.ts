import type { PlacementJob } from "../../coordinator/placement/index.ts";
import { GiB } from "./hosts.ts";
import { between, pick, seededRandom } from "./rng.ts";

/**
 * The reference trace: bigmem and refleak jobs shaped by shared/reference/regrtest.md and jobs/*.json.
 *
 * - bigmem (40% of jobs): a pydebug build (10–20 min on a big host), then the tests. Regrtest does
 *   not share the limit between workers, so the reservation is the suite's 4 GiB overhead plus
 *   workers × memlimit (jobs/bigmem.json). A tenth are parity runs like CPython's builder: `-M60g`
 *   with 4 to 7 workers (244–424 GiB: only the 500 GB host holds one; the builder's `-j8` is 484 GiB,
 *   more than that host offers once its headroom is kept). The others check a change: `-M24g -j1`..`-j8`
 *   (28–196 GiB) or `-M60g -j1`..`-j3` (64–184 GiB). Tests run 20–60 min at 24g and 40–75 min at
 *   60g, so a job takes from half an hour to the ~1.5 h that CPython's builder needs.
 * - refleak (60%): `-R 3:3` with 1, 2, 4 or 8 workers at 4 GiB each plus 2 GiB (jobs/refleak.json,
 *   6–34 GiB), 1–3 hours.
 *
 * All jobs are submitted at once (a backlog, so the makespan measures packing, not arrivals), in a
 * random order, at normal priority unless `priorities` draws 10% high and 10% low.
 */
export interface TraceJob extends PlacementJob {
  /** e.g. `bigmem -M60g -j4`: what a person would have submitted. */
  command: string;
  /** How long it really runs; `expectedDurationMs` is what the scheduler is told. */
  durationMs: number;
}

const MINUTE_MS = 60_000;
const BIGMEM_SHARE = 0.4;
/** Parity runs need 244–424 GiB: only the 500 GB host holds one, and only one at a time. */
const PARITY_SHARE_OF_BIGMEM = 0.1;

export interface TraceOptions {
  jobs: number;
  seed: number;
  /** Estimates off by up to this fraction either way (0: history predicts every job exactly). */
  estimateError: number;
  /** 10% high and 10% low priority (default: every job normal). */
  priorities?: boolean;
}

export function referenceTrace(options: TraceOptions): TraceJob[] {
  const random = seededRandom(options.seed);
  const jobs: TraceJob[] = [];
  for (let id = 1; id <= options.jobs; id += 1) {
    const drawn = random() < 0.1 ? "high" : random() < 0.11 ? "low" : "normal";
    const priority = options.priorities ? drawn : "normal";
    let command: string;
    let reservationBytes: number;
    let durationMs: number;
    const kind = random();
    if (kind < BIGMEM_SHARE) {
      // Most bigmem runs check a change at -M24g or a few -M60g workers; some are the full parity
      // run of CPython's builder (-M60g, as many workers as the 500 GB host holds).
      const parity = kind < BIGMEM_SHARE * PARITY_SHARE_OF_BIGMEM;
      const memlimit = parity || random() < 0.4 ? 60 : 24;
      const workers = parity ? between(random, 4, 7) : between(random, 1, memlimit === 60 ? 3 : 8);
      command = `bigmem -M${memlimit}g -j${workers}`;
      reservationBytes = (4 + workers * memlimit) * GiB;
      const build = between(random, 10, 20);
      const tests = memlimit === 60 ? between(random, 40, 75) : between(random, 20, 60);
      durationMs = (build + tests) * MINUTE_MS;
    } else {
      const workers = pick(random, [1, 2, 4, 8]);
      command = `refleak -R 3:3 -j${workers}`;
      reservationBytes = (2 + workers * 4) * GiB;
      durationMs = between(random, 60, 180) * MINUTE_MS;
    }
    const error = (random() * 2 - 1) * options.estimateError;
    jobs.push({
      id,
      submittedMs: 0, // the whole backlog at once
      priority,
      reservationBytes,
      labels: {},
      exclusive: false,
      expectedDurationMs: Math.round(durationMs * (1 + error)),
      command,
      durationMs,
    });
  }
  return jobs;
}
