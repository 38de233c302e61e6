import { placeJobs } from "../coordinator/placement/index.ts";
import { largeFarm } from "./packing/large-farm.ts";
import { machineLine, median, printTable } from "./packing/report.ts";

/**
 * Placement throughput: one call of placeJobs with 1,000 agents and 10,000 queued jobs (the farm
 * half busy, bigmem- and refleak-sized jobs, labels, exclusive jobs, blackout windows; see
 * packing/large-farm.ts). Anchor: Nomad's C1M placed about 3,750 per second; target: at least
 * 10,000 placements per second.
 *
 *   npm run build && node dist/bench/placement-throughput.js [RUNS]
 *
 * The input is built once (seeded, the same on every run) and is not timed. The scheduler calls
 * placeJobs again and again, so the number that matters is the warm one: five untimed calls let
 * the JIT compile, then RUNS timed calls (default 9); the table gives their median and range, and
 * the first (cold) call separately.
 */

const AGENTS = 1_000;
const JOBS = 10_000;
const WARM_UP = 5;
const runs = Number(process.argv[2] ?? 9);
if (!Number.isInteger(runs) || runs < 1)
  throw new Error(`RUNS must be a positive integer, not ${process.argv[2]}`);

const input = largeFarm(AGENTS, JOBS, 1);

const timed = () => {
  const started = performance.now();
  const output = placeJobs(input);
  return { ms: performance.now() - started, output };
};

const cold = timed();
for (let run = 1; run < WARM_UP; run += 1) timed();
const times: number[] = [];
for (let run = 0; run < runs; run += 1) times.push(timed().ms);

const { output } = cold;
const placed = output.placements.length;
const reserved = output.held.filter((held) => held.reservation).length;
const ms = median(times);
const perSecond = (count: number, milliseconds: number) =>
  Math.round((count / milliseconds) * 1000).toLocaleString("en");

console.log(machineLine());
console.log(
  `placeJobs: ${AGENTS.toLocaleString("en")} agents, ${JOBS.toLocaleString("en")} queued jobs, median of ${runs} warm calls`,
);
printTable(
  ["what", "number", "target"],
  [
    ["placed", placed.toLocaleString("en"), ""],
    ["held (of which with a reservation)", `${output.held.length.toLocaleString("en")} (${reserved})`, ""],
    [
      "one call, median (min–max)",
      `${ms.toFixed(1)} ms (${Math.min(...times).toFixed(1)}–${Math.max(...times).toFixed(1)})`,
      "well under 1 s",
    ],
    ["first (cold) call", `${cold.ms.toFixed(1)} ms`, ""],
    ["placements per second", perSecond(placed, ms), ">= 10,000 (Nomad C1M: ~3,750)"],
    ["jobs decided per second (placed + held)", perSecond(JOBS, ms), ""],
    ["placements per second, cold call", perSecond(placed, cold.ms), ""],
  ],
);
