import { referenceFarm } from "./packing/hosts.ts";
import { fragmentationLowerBound, simpleLowerBound } from "./packing/lower-bound.ts";
import { hours, machineLine, printTable } from "./packing/report.ts";
import { simulate } from "./packing/simulate.ts";
import { referenceTrace, type TraceJob } from "./packing/trace.ts";

/**
 * Packing: how long a backlog of bigmem and refleak jobs takes on the reference farm (one
 * 500 GB, two 256 GB, four 128 GB hosts; capacity = memory minus max(1 GiB, 5%)), scheduled by
 * placeJobs in a discrete-event simulation (packing/simulate.ts, which asserts that no host is ever
 * overcommitted). The trace is seeded (packing/trace.ts), so every run prints the same numbers.
 *
 *   npm run build && node dist/bench/packing.js
 *
 * The makespan is compared with
 * - the lower bound: the larger of (sum of reservation × duration) / total capacity and the longest
 *   job. Target: within 1.15×. Beside it, a stronger bound that knows which jobs fit which hosts
 *   (packing/lower-bound.ts): what no schedule can beat on this farm;
 * - one job per host, as Buildbot runs a builder (every job exclusive, with the same queue order
 *   and backfill, so the baseline is if anything flattered). Target: at least 2.5× faster.
 * Mean memory utilisation is reserved bytes × time over capacity × makespan; "until the last start"
 * is the same up to the moment the last job starts, i.e. while jobs still wait (the rest is the tail).
 */

interface Scenario {
  name: string;
  jobs: number;
  seed: number;
  estimateError: number;
  /** Keep only the refleak jobs (1–3 h, at most 34 GiB): packing without big jobs. */
  refleakOnly?: boolean;
  /** placeJobs' bound on reservations per pass (default 100); 0 reserves only each priority's head. */
  maxReservations?: number;
  /** 10% high and 10% low priority instead of all normal. */
  priorities?: boolean;
  /**
   * Queue strictly by id, as if each job had been submitted long after the one before (no size credit
   * can reorder them): plain first come first served.
   */
  strictOrder?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: "reference (300 jobs, seed 1)", jobs: 300, seed: 1, estimateError: 0 },
  { name: "durations estimated ±25%", jobs: 300, seed: 1, estimateError: 0.25 },
  { name: "seed 2", jobs: 300, seed: 2, estimateError: 0 },
  { name: "seed 3", jobs: 300, seed: 3, estimateError: 0 },
  { name: "1,000 jobs (seed 1)", jobs: 1000, seed: 1, estimateError: 0 },
  { name: "refleak only (300 jobs)", jobs: 300, seed: 1, estimateError: 0, refleakOnly: true },
  { name: "reference, 10% high, 10% low priority", jobs: 300, seed: 1, estimateError: 0, priorities: true },
  { name: "reference, strictly by submit order", jobs: 300, seed: 1, estimateError: 0, strictOrder: true },
  { name: "reference, only heads reserved", jobs: 300, seed: 1, estimateError: 0, maxReservations: 0 },
];

const DAY_MS = 24 * 3_600_000;

function traceOf(scenario: Scenario): TraceJob[] {
  if (!scenario.refleakOnly) return referenceTrace(scenario);
  // Draw more jobs than needed from the same generator and keep the first refleak ones.
  const drawn = referenceTrace({ ...scenario, jobs: scenario.jobs * 3 });
  return drawn.filter((job) => job.command.startsWith("refleak")).slice(0, scenario.jobs);
}

const hosts = referenceFarm();
const rows: string[][] = [];
for (const scenario of SCENARIOS) {
  const trace = traceOf(scenario);
  const { areaMs, longestMs } = simpleLowerBound(hosts, trace);
  const boundMs = Math.max(areaMs, longestMs);
  const strongerMs = fragmentationLowerBound(hosts, trace);
  const options = scenario.maxReservations === undefined ? {} : { maxReservations: scenario.maxReservations };
  const asQueued = (job: TraceJob) => (scenario.strictOrder ? { ...job, submittedMs: job.id * DAY_MS } : job);
  const packed = simulate(hosts, trace, asQueued, options);
  const onePerHost = simulate(hosts, trace, (job) => ({ ...asQueued(job), exclusive: true }), options);
  rows.push([
    scenario.name,
    `${hours(boundMs)} (${areaMs >= longestMs ? "memory×time" : "longest job"})`,
    hours(packed.makespanMs),
    `${(packed.makespanMs / boundMs).toFixed(3)}×`,
    `${hours(strongerMs)} (${(packed.makespanMs / strongerMs).toFixed(3)}×)`,
    hours(onePerHost.makespanMs),
    `${(onePerHost.makespanMs / packed.makespanMs).toFixed(2)}×`,
    `${(packed.meanUtilisation * 100).toFixed(1)}%`,
    `${(packed.backlogUtilisation * 100).toFixed(1)}%`,
  ]);
}

const farm = hosts
  .map((host) => `${host.name} ${(host.capacityBytes / 1024 ** 3).toFixed(1)} GiB`)
  .join(", ");
console.log(machineLine());
console.log(`farm (capacity): ${farm}`);
printTable(
  [
    "trace",
    "lower bound",
    "makespan",
    "vs bound (≤ 1.15×)",
    "host-aware bound (vs it)",
    "one job per host",
    "speed-up (≥ 2.5×)",
    "mean utilisation",
    "until the last start",
  ],
  rows,
);
