import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isFinalStatus } from "../protocol/job-status.ts";
import type { JobResource } from "../protocol/resources.ts";
import { freePort, NatsNode, startCluster } from "../test/helpers/nats-servers.ts";
import { ProcessFarm } from "../test/helpers/process-farm.ts";
import { findTestPython } from "../test/helpers/python.ts";
import { guardCleanup, machineLine, printTable, sleep } from "./agent-bench-util.ts";
import { median } from "./packing/report.ts";
import { between, seededRandom } from "./packing/rng.ts";
import { auditJob, type JobAudit } from "./soak/audit.ts";
import { type Kill, killAndRestart } from "./soak/chaos.ts";

/**
 * Soak benchmark: pushes many short jobs through several agents while SIGKILLing parts of the farm
 * at seeded-random moments (an agent, the coordinator, a nats-server), each started again after a
 * short downtime on the same data. Then reads every job back and reports jobs lost (never
 * terminal by the deadline; must be 0), duplicated (more than one counted attempt, a log line or a
 * test applied twice; must be 0), and the time to recover after each kill.
 *
 *   npm run build && node dist/bench/soak.js [jobs=80] [agents=3] [seed=1] [--cluster | --embedded]
 *
 * --cluster runs a 3-node JetStream cluster (3 stream replicas) instead of one nats-server;
 * --embedded gives the coordinator its own nats-server (agents join with issued credentials, and
 * a killed nats-server is started again by the coordinator, not by the soak). The coordinator runs
 * with the product's --lost-after; half the agent kills keep the agent down past it, and the time
 * the coordinator took to notice (the held attempts marked lost) is reported.
 * Exits 1 when a job was lost or duplicated.
 */
const args = process.argv.slice(2);
const positional = args.filter((arg) => !arg.startsWith("--"));
const JOBS = Math.min(1000, Number(positional[0] ?? 80));
const AGENTS = Number(positional[1] ?? 3);
const SEED = Number(positional[2] ?? 1);
const CLUSTER = args.includes("--cluster");
const EMBEDDED = args.includes("--embedded");

/** Each job naps this long, printing a line a second (about 3 s per job with regrtest's start-up). */
const NAP_SECONDS = 2;
const SUBMIT_EVERY_MS = Number(process.env.SOAK_SUBMIT_EVERY_MS ?? 1500);
/** Quiet time between one recovery and the next kill. */
const CALM_MS: [number, number] = [5000, 12000];
/** How long after the last submission every job must have reached a terminal state. */
const SETTLE_MS = 180_000;
/** A kill the farm has not recovered from within this is reported as not recovered. */
const RECOVERY_LIMIT_MS = 90_000;
const POLL_MS = 250;

/** When the soak first saw each job terminal, and where it ran. */
interface Completion {
  jobId: number;
  agent: string | null;
  atMs: number;
}

async function main(): Promise<void> {
  const python = findTestPython();
  const farm = new ProcessFarm(NAP_SECONDS);
  let nats: NatsNode[] = [];
  const { cleanup } = guardCleanup(async () => {
    await farm.stop();
    for (const node of nats) await node.stop();
  });
  try {
    if (CLUSTER) {
      nats = await startCluster(join(farm.dir, "nats"));
    } else if (!EMBEDDED) {
      nats = [NatsNode.single(join(farm.dir, "nats"), await freePort())];
      await nats[0]?.start();
    }
    farm.natsUrls = nats.map((node) => node.url);
    const startCoordinator = async () => {
      await farm.startCoordinator([], { embeddedNats: EMBEDDED, lostAfter: null });
    };
    await startCoordinator();
    const agents = Array.from({ length: AGENTS }, (_, index) => `soak-${index + 1}`);
    for (const agent of agents) {
      if (EMBEDDED) await farm.issueCredentials(agent);
      await farm.startAgent(agent);
    }

    const started = performance.now();
    const now = () => performance.now() - started;
    const random = seededRandom(SEED);
    const submitted: number[] = [];
    const completions = new Map<number, Completion>();
    /** Jobs assigned or running, by agent, as last seen. */
    let active: JobResource[] = [];
    const jobsOn = (agent: string) => active.filter((job) => job.agent === agent).map((job) => job.id);
    let submitting = true;
    let observing = true;

    const observe = async () => {
      while (observing) {
        try {
          const { body } = await farm.api("/jobs?limit=500");
          const jobs = (body?.jobs ?? []) as JobResource[];
          active = jobs.filter((job) => job.status === "assigned" || job.status === "running");
          for (const job of jobs) {
            if (isFinalStatus(job.status) && !completions.has(job.id))
              completions.set(job.id, { jobId: job.id, agent: job.agent, atMs: now() });
          }
        } catch {
          // The coordinator is down for the moment: nothing to see.
        }
        await sleep(POLL_MS);
      }
    };

    const submit = async () => {
      for (let index = 0; index < JOBS; index += 1) {
        for (;;) {
          try {
            submitted.push((await farm.submitNap(python)).id);
            break;
          } catch {
            await sleep(POLL_MS); // the coordinator is restarting; a user would try again
          }
        }
        await sleep(SUBMIT_EVERY_MS);
      }
      submitting = false;
    };

    /** Kill, restart, wait for the recovery (see recoveryOf), calm down, again, while jobs arrive. */
    const kills: Kill[] = [];
    const chaos = async () => {
      while (submitting) {
        const calmUntil = now() + between(random, ...CALM_MS);
        while (submitting && now() < calmUntil) await sleep(POLL_MS);
        if (!submitting) break;
        const kill = await killAndRestart({
          farm,
          nats,
          agents,
          random,
          now,
          jobsOn,
          startCoordinator,
          killEmbeddedNats: EMBEDDED ? () => killEmbeddedNats(farm) : null,
        });
        kills.push(kill);
        console.error(`${(kill.killedAtMs / 1000).toFixed(1)} s: killed ${kill.victim} ${kill.which}`);
        const deadline = now() + RECOVERY_LIMIT_MS;
        while (recoveryOf(kill, completions) === null && now() < deadline) await sleep(POLL_MS);
      }
    };

    const observer = observe();
    await Promise.all([submit(), chaos()]);
    const settleBy = now() + SETTLE_MS;
    while (now() < settleBy && submitted.some((id) => !completions.has(id))) await sleep(POLL_MS);
    const wallMs = now();
    observing = false;
    await observer;

    const audits: JobAudit[] = [];
    for (const id of submitted) {
      const job = (await farm.api(`/jobs/${id}`)).body as JobResource;
      audits.push(await auditJob(farm, job));
    }
    report(audits, kills, completions, wallMs);
    reportNotice(kills, audits);
    const broken = audits.filter((audit) => audit.lost || audit.duplicated).length;
    process.exitCode = broken > 0 ? 1 : 0;
  } finally {
    await cleanup();
  }
}

/** Kills the coordinator's own nats-server and waits until the coordinator has it running again. */
async function killEmbeddedNats(farm: ProcessFarm): Promise<void> {
  const pidFile = join(farm.dataDir, "nats", "nats-server.pid");
  const pid = Number(readFileSync(pidFile, "utf8"));
  process.kill(pid, "SIGKILL");
  for (;;) {
    await sleep(POLL_MS);
    const health = await fetch(`${farm.url}/healthz`).catch(() => null);
    const now = Number(readFileSync(pidFile, "utf8"));
    if (health?.status === 200 && now !== pid) return;
  }
}

/**
 * How long the coordinator took to notice an agent that stayed down past --lost-after: from the
 * SIGKILL to the attempts it held being marked lost (their jobs requeued).
 */
function reportNotice(kills: Kill[], audits: JobAudit[]): void {
  const noticed = (kill: Kill) =>
    kill.held.flatMap((jobId) => {
      const job = audits.find((audit) => audit.job.id === jobId)?.job;
      const lost = job?.attempts.find((attempt) => attempt.status === "lost" && attempt.agent === kill.which);
      return lost?.finishedAt ? [Date.parse(lost.finishedAt) - kill.killedAtEpochMs] : [];
    });
  const rows = [true, false].flatMap((longOutage) => {
    const times = kills
      .filter((kill) => kill.victim === "agent" && kill.longOutage === longOutage)
      .flatMap(noticed);
    if (times.length === 0) return [];
    return [
      [
        longOutage ? "down past --lost-after" : "back within 3 s",
        String(times.length),
        seconds(median(times)),
        seconds(percentile(times, 0.99)),
        seconds(Math.max(...times)),
      ],
    ];
  });
  console.log("");
  console.log("time from an agent's SIGKILL to its running attempts marked lost (their jobs requeued):");
  printTable(["agent", "attempts", "p50", "p99", "max"], rows);
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? 0;
}

/**
 * Time to recover from a kill, from the SIGKILL (so it includes the chosen downtime of 0.5–3 s):
 * - an agent: until it is back and every job it was running has completed (requeued elsewhere or
 *   on it again): the work the crash took away is done;
 * - the coordinator or a nats-server, which every job goes through: until it is back and the farm
 *   completes a job again (the first job seen terminal after the restart).
 * Null: not recovered (yet).
 */
function recoveryOf(kill: Kill, completions: Map<number, Completion>): number | null {
  if (kill.held.length > 0) {
    const done = kill.held.map((id) => completions.get(id)?.atMs);
    if (done.some((atMs) => atMs === undefined)) return null;
    return Math.max(kill.backAtMs, ...(done as number[])) - kill.killedAtMs;
  }
  let first = Number.POSITIVE_INFINITY;
  for (const completion of completions.values()) {
    if (completion.atMs >= kill.backAtMs) first = Math.min(first, completion.atMs);
  }
  if (kill.victim === "agent") return kill.backAtMs - kill.killedAtMs; // it held nothing
  return Number.isFinite(first) ? first - kill.killedAtMs : null;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function report(
  audits: JobAudit[],
  kills: Kill[],
  completions: Map<number, Completion>,
  wallMs: number,
): void {
  const passed = audits.filter((audit) => audit.job.status === "passed").length;
  const otherwise = new Map<string, number>();
  for (const audit of audits) {
    if (audit.lost || audit.job.status === "passed") continue;
    otherwise.set(audit.job.status, (otherwise.get(audit.job.status) ?? 0) + 1);
  }
  const lostAttempts = audits.reduce(
    (sum, audit) => sum + audit.job.attempts.filter((attempt) => attempt.status === "lost").length,
    0,
  );
  const duplicated = audits.filter((audit) => audit.duplicated);
  const incomplete = audits.filter((audit) => audit.incomplete);

  console.log(machineLine());
  console.log(
    `soak: ${audits.length} jobs (nap ${NAP_SECONDS} s), ${AGENTS} agents, seed ${SEED}, ` +
      `${CLUSTER ? "3-node NATS cluster" : EMBEDDED ? "the coordinator's embedded nats-server" : "one nats-server"}, ` +
      `${kills.length} kills, ${seconds(wallMs)}`,
  );
  console.log("");
  printTable(
    ["jobs", "number"],
    [
      ["submitted", String(audits.length)],
      ["passed", String(passed)],
      [
        "ended otherwise",
        otherwise.size === 0 ? "0" : [...otherwise].map(([status, count]) => `${count} ${status}`).join(", "),
      ],
      ["lost (not terminal by the deadline)", String(audits.filter((audit) => audit.lost).length)],
      [
        "duplicated",
        duplicated.length === 0
          ? "0"
          : duplicated.map((audit) => `job ${audit.job.id}: ${audit.duplicated}`).join("; "),
      ],
      [
        "final attempt's log incomplete",
        incomplete.length === 0
          ? "0"
          : incomplete.map((audit) => `job ${audit.job.id}: ${audit.incomplete}`).join("; "),
      ],
      ["attempts lost to kills (requeued)", String(lostAttempts)],
    ],
  );
  console.log("");
  printTable(
    ["#", "at", "killed", "downtime", "recovered after"],
    kills.map((kill, index) => {
      const recovery = recoveryOf(kill, completions);
      return [
        String(index + 1),
        seconds(kill.killedAtMs),
        `${kill.victim} ${kill.victim === "coordinator" ? "" : kill.which}`.trim() +
          (kill.victim === "agent" ? ` (running ${kill.held.length})` : ""),
        seconds(kill.backAtMs - kill.killedAtMs),
        recovery === null ? "not recovered" : seconds(recovery),
      ];
    }),
  );
  console.log("");
  const rows = (["agent", "coordinator", "nats-server"] as const).flatMap((victim) => {
    const ofVictim = kills.filter((kill) => kill.victim === victim);
    if (ofVictim.length === 0) return [];
    const times = ofVictim.flatMap((kill) => recoveryOf(kill, completions) ?? []);
    return [
      [
        victim,
        String(ofVictim.length),
        times.length ? seconds(median(times)) : "-",
        times.length ? seconds(percentile(times, 0.99)) : "-",
        times.length ? seconds(Math.max(...times)) : "-",
        String(ofVictim.length - times.length),
      ],
    ];
  });
  printTable(["killed", "kills", "recovery p50", "recovery p99", "recovery max", "not recovered"], rows);
}

main().catch((thrown: unknown) => {
  console.error(thrown);
  process.exitCode = 2;
});
