import { type ChildProcessByStdio, spawn } from "node:child_process";
import { existsSync, rmdirSync } from "node:fs";
import type { Readable } from "node:stream";
import { createJobLimit, detectCgroupSupport, type JobLimit } from "../agent/limits/index.ts";
import { SeenProcesses } from "../agent/processes/process-tree.ts";
import { TreeSampler } from "../agent/processes/sampler.ts";
import type { Sample } from "../protocol/messages.ts";
import {
  guardCleanup,
  MiB,
  machineLine,
  printTable,
  sleep,
  waitForInterruptExit,
} from "./agent-bench-util.ts";

/**
 * Peak fidelity: the peak memfarm reports against the kernel's own for a
 * steady allocation and for a short spike. Target: within 1%.
 *
 *   npm run build && node dist/bench/peak-fidelity.js [--json]
 *
 * Each case runs one Python child that maps 512 MiB and touches every page:
 *   steady: holds it 3 s, then exits;
 *   spike:  holds it 100 ms, frees it, lives 2 s more, then exits.
 * While it runs, every way memfarm has of reporting a peak watches the same
 * process, as the agent does (limit attached right after spawn, sampler
 * started at once, stopped after the exit):
 *   - TreeSampler.peakRssBytes at the agent's 1 Hz (samples + VmHWM reads);
 *   - the cgroup limit's peakBytes() (v1 here: memory.max_usage_in_bytes);
 *   - the watchdog limit's peakBytes() (polls at 100 ms, reads VmHWM);
 *   - what the agent reports for the job: the larger of the cgroup's and the sampler's;
 *   - the naive "highest sample" (the largest rssBytes the sampler emitted), for contrast.
 * The truth is the child's own VmHWM (from /proc/self/status, read just before
 * it exits; its ru_maxrss is printed as a cross-check).
 */

const SIZE_MIB = 512;
const SAMPLE_INTERVAL_MS = 1000; // the agent's sampling interval for jobs
const CASES = [
  { name: "steady", what: `${SIZE_MIB} MiB held 3 s`, holdSeconds: 3, afterSeconds: 0 },
  { name: "spike", what: `${SIZE_MIB} MiB held 100 ms, then 2 s more`, holdSeconds: 0.1, afterSeconds: 2 },
] as const;
const json = process.argv.includes("--json");

// The block is one anonymous mapping, populated by the kernel in one go
// (MAP_POPULATE) and then written page by page. Faulting 512 MiB in page by
// page (a plain bytearray) takes 2-5 s in this VM, which would turn the
// "100 ms spike" into a multi-second ramp that even a 1 Hz sampler partly sees.
const CHILD_SCRIPT = `
import json, mmap, re, resource, sys, time
size, hold, after = int(sys.argv[1]) << 20, float(sys.argv[2]), float(sys.argv[3])
flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
started = time.monotonic()
block = mmap.mmap(-1, size, flags=flags)
block[::4096] = b"\\x01" * (size // 4096)  # touch every page
allocated = time.monotonic()
time.sleep(hold)
releasing = time.monotonic()
block.close()                              # munmap: the memory goes back at once
freed = time.monotonic()
time.sleep(after)
status = open("/proc/self/status").read()
field = lambda name: int(re.search(r"^" + name + r":\\s+(\\d+) kB", status, re.M).group(1))
print(json.dumps({
    "vmHwmKiB": field("VmHWM"),
    "vmRssKiB": field("VmRSS"),
    "rssFileKiB": field("RssFile"),
    "ruMaxrssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "allocSeconds": allocated - started,
    "heldSeconds": releasing - allocated,
    "freeSeconds": freed - releasing,
}))
`;

interface ChildReport {
  vmHwmKiB: number;
  vmRssKiB: number;
  rssFileKiB: number;
  ruMaxrssKiB: number;
  allocSeconds: number;
  heldSeconds: number;
  freeSeconds: number;
}

interface CaseResult {
  name: string;
  what: string;
  truthBytes: number;
  child: ChildReport;
  cgroupKind: string | null;
  reported: Record<string, number | null>;
  samples: number;
}

const running = new Set<ChildProcessByStdio<null, Readable, null>>();
const limits = new Set<JobLimit>();
// Job cgroups go in a `memfarm` directory under this process's cgroup: remove it afterwards if we made it.
const support = await detectCgroupSupport();
const parentsWeMake = [support.v2, support.v1].filter(
  (parent): parent is string => parent !== null && !existsSync(parent),
);

async function cleanup(): Promise<void> {
  for (const child of running) if (child.pid !== undefined) signalGroup(child.pid);
  await Promise.all([...limits].map((limit) => limit.dispose()));
  limits.clear();
  for (const parent of parentsWeMake) {
    // A job cgroup another caller is still disposing may be inside for a moment.
    for (let tries = 0; tries < 40 && existsSync(parent); tries += 1) {
      try {
        rmdirSync(parent);
      } catch {
        await sleep(50);
      }
    }
  }
}
const guard = guardCleanup(cleanup);
process.on("exit", () => {
  for (const child of running) if (child.pid !== undefined) signalGroup(child.pid);
});

function signalGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

async function runCase(spec: (typeof CASES)[number]): Promise<CaseResult> {
  const name = `bench-peak-${process.pid}-${spec.name}`;
  const cgroup = await createJobLimit({ name: `${name}-cgroup`, limitBytes: 2 * SIZE_MIB * MiB });
  limits.add(cgroup);
  const watchdog = await createJobLimit({
    name: `${name}-watchdog`,
    limitBytes: 2 * SIZE_MIB * MiB,
    mode: "watchdog",
  });
  limits.add(watchdog);
  const child = spawn(
    "/usr/bin/python3",
    ["-c", CHILD_SCRIPT, String(SIZE_MIB), String(spec.holdSeconds), String(spec.afterSeconds)],
    { detached: true, stdio: ["ignore", "pipe", "inherit"] },
  );
  running.add(child);
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const closed = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("python3 did not start");
  // As the agent does: the limit first (before the child allocates), then the sampler.
  if (cgroup.kind !== "watchdog") cgroup.attach(pid);
  watchdog.attach(pid);
  const samples: Sample[] = [];
  const sampler = new TreeSampler(new SeenProcesses(), pid, SAMPLE_INTERVAL_MS, (sample) =>
    samples.push(sample),
  );
  sampler.start();
  const code = await closed;
  await sampler.stop();
  running.delete(child);
  if (code !== 0) throw new Error(`the ${spec.name} child exited with ${code}: ${output}`);
  const report = JSON.parse(output) as ChildReport;
  const cgroupPeak = cgroup.kind === "watchdog" ? null : cgroup.peakBytes();
  const samplerPeak = sampler.peakRssBytes;
  const reported: Record<string, number | null> = {
    sampler: samplerPeak,
    cgroup: cgroupPeak,
    watchdog: watchdog.peakBytes(),
    job: cgroupPeak === null && samplerPeak === null ? null : Math.max(cgroupPeak ?? 0, samplerPeak ?? 0),
    naive: samples.length === 0 ? null : Math.max(...samples.map((sample) => sample.rssBytes)),
  };
  for (const limit of [cgroup, watchdog]) {
    await limit.dispose();
    limits.delete(limit);
  }
  return {
    name: spec.name,
    what: spec.what,
    truthBytes: report.vmHwmKiB * 1024,
    child: report,
    cgroupKind: cgroup.kind === "watchdog" ? null : cgroup.kind,
    reported,
    samples: samples.length,
  };
}

console.log(machineLine());
const results: CaseResult[] = [];
try {
  for (const spec of CASES) {
    results.push(await runCase(spec));
    await sleep(500);
  }
} catch (error) {
  if (guard.interrupted()) await waitForInterruptExit(); // the child was killed on purpose
  throw error;
} finally {
  await guard.cleanup();
}

const cgroupKind = results.find((result) => result.cgroupKind !== null)?.cgroupKind ?? null;
const METHODS: [key: string, label: string][] = [
  ["sampler", `TreeSampler.peakRssBytes (${SAMPLE_INTERVAL_MS / 1000} Hz + VmHWM)`],
  [
    "cgroup",
    cgroupKind === "cgroup-v1"
      ? "cgroup v1 limit peakBytes() (max_usage_in_bytes)"
      : cgroupKind === "cgroup-v2"
        ? "cgroup v2 limit peakBytes() (memory.peak)"
        : `cgroup limit: none here (${support.reason})`,
  ],
  ["watchdog", "watchdog limit peakBytes() (100 ms + VmHWM)"],
  ["job", "job peak the agent reports (max of cgroup, sampler)"],
  ["naive", "naive: highest sample emitted (no VmHWM)"],
];

for (const result of results) {
  const child = result.child;
  console.log(
    `${result.name}: ${result.what}; allocated in ${(child.allocSeconds * 1000).toFixed(0)} ms, held ${(child.heldSeconds * 1000).toFixed(0)} ms, ` +
      `freed in ${(child.freeSeconds * 1000).toFixed(0)} ms; ` +
      `truth VmHWM ${(child.vmHwmKiB / 1024).toFixed(1)} MiB (ru_maxrss ${(child.ruMaxrssKiB / 1024).toFixed(1)} MiB, ` +
      `at exit VmRSS ${(child.vmRssKiB / 1024).toFixed(1)} MiB of which file-backed ${(child.rssFileKiB / 1024).toFixed(1)} MiB); ` +
      `${result.samples} samples emitted`,
  );
}
printTable(
  ["case", "method", "reported", "truth (VmHWM)", "reported / truth"],
  results.flatMap((result) =>
    METHODS.map(([key, label]) => {
      const bytes = result.reported[key] ?? null;
      return [
        result.name,
        label,
        bytes === null ? "n/a" : `${(bytes / MiB).toFixed(1)} MiB`,
        `${(result.truthBytes / MiB).toFixed(1)} MiB`,
        bytes === null ? "n/a" : (bytes / result.truthBytes).toFixed(4),
      ];
    }),
  ),
);
console.log("target: reported / truth within 1% (0.99-1.01) for every method but the naive one");
if (json) console.log(JSON.stringify(results));
