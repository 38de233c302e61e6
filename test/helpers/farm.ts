import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileAgentConfig } from "../../agent/config.ts";
import { AgentDaemon } from "../../agent/daemon.ts";
import { compileCoordinatorConfig } from "../../coordinator/config.ts";
import { Coordinator } from "../../coordinator/coordinator.ts";
import type { GithubOptions } from "../../coordinator/github/github-config.ts";
import { DEFAULT_JOBS_DIR } from "../../coordinator/paths.ts";
import { isFinalStatus } from "../../protocol/job-status.ts";
import { type Logger, silentLogger } from "../../protocol/logger.ts";
import type { SpokenVersion } from "../../protocol/protocol-version.ts";
import type { JobResource } from "../../protocol/resources.ts";

/** A response body as the tests read it: JSON of any shape, checked by the assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON and assert on its shape
type ApiBody = any;

export interface TestFarm {
  dir: string;
  coordinator: Coordinator;
  agent: AgentDaemon;
  /** Every agent: `agent` first, then the `agents - 1` more asked for. */
  agents: AgentDaemon[];
  url: string;
  token: string;
  api(
    path: string,
    init?: { method?: string; body?: unknown; token?: string | null; raw?: string },
  ): Promise<{ status: number; body: ApiBody }>;
  submit(body: Record<string, unknown>): Promise<JobResource>;
  waitFor(jobId: number, done: (job: JobResource) => boolean, timeoutMs?: number): Promise<JobResource>;
  stop(): Promise<void>;
}

/** A temporary jobs dir with the shipped suites plus `extra` suite files. */
export function makeJobsDir(extra: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-jobs-"));
  cpSync(DEFAULT_JOBS_DIR, dir, { recursive: true });
  for (const [name, suite] of Object.entries(extra)) {
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(suite));
  }
  return dir;
}

/**
 * A whole farm for one test: an embedded nats-server on a free port (NKey users, as in production),
 * a coordinator with its own SQLite file and HTTP port, and one agent with its own credentials.
 */
export async function startFarm(
  options: {
    jobsDir?: string;
    memory?: string;
    agentName?: string;
    allowLocalRepos?: boolean;
    limitMode?: "auto" | "v2" | "v1" | "watchdog";
    killGraceMs?: number;
    /** Seconds the agent lets running jobs finish on stop(); "0" (the default here) hands them back at once. */
    drainTimeout?: string;
    /** The agent's --build-cache-size (default: no limit). */
    buildCacheSize?: string;
    /** Where the coordinator and the agent log; silent unless a test asserts on the log. */
    coordinatorLog?: Logger;
    agentLog?: Logger;
    /** The agent's work dir (builds, outbox, attempts); a fresh one under the farm's dir unless given. */
    agentWorkDir?: string;
    /** Turns the PR bot on; its GitHub calls are not retried within an attempt and feedback is retried quickly. */
    github?: GithubOptions;
    /** How many agents join (default 1); the others are named AGENT-2, AGENT-3, … */
    agents?: number;
    /** The release and protocol the coordinator and the agents say they are (default: memfarm's own). */
    coordinatorVersion?: SpokenVersion;
    agentVersion?: SpokenVersion;
  } = {},
): Promise<TestFarm> {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-test-"));
  const config = compileCoordinatorConfig(
    {
      port: "0",
      dataDir: join(dir, "data"),
      jobsDir: options.jobsDir,
      lostAfter: "6",
      github: options.github ?? {},
      pretendVersion: options.coordinatorVersion,
    },
    {},
  );
  if (config.github) Object.assign(config.github, { requestRetries: 0, retryBaseMs: 300 });
  const coordinator = await Coordinator.start(config, options.coordinatorLog ?? silentLogger);
  const agentName = options.agentName ?? "test-agent";
  const agents: AgentDaemon[] = [];
  for (let index = 1; index <= (options.agents ?? 1); index++) {
    const name = index === 1 ? agentName : `${agentName}-${index}`;
    const agent = new AgentDaemon(
      compileAgentConfig({
        nats: coordinator.natsUrls.join(","),
        creds: await coordinator.natsAuthority.ensureLocalAgent(name),
        name,
        memory: options.memory ?? "16G",
        workDir: index === 1 ? (options.agentWorkDir ?? join(dir, "agent")) : join(dir, `agent-${index}`),
        sampleIntervalMs: 200,
        allowLocalRepos: options.allowLocalRepos ?? false,
        limitMode: options.limitMode,
        killGraceMs: options.killGraceMs ?? 2000,
        drainTimeout: options.drainTimeout ?? "0",
        buildCacheSize: options.buildCacheSize,
        pretendVersion: options.agentVersion,
      }),
      options.agentLog ?? silentLogger,
    );
    await agent.start();
    agents.push(agent);
  }
  const agent = agents[0] as AgentDaemon;
  const url = coordinator.httpUrl;
  const token = coordinator.adminToken;
  const api: TestFarm["api"] = async (path, init = {}) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const bearer = init.token === undefined ? token : init.token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const response = await fetch(`${url}/api/v1${path}`, {
      method: init.method ?? (init.body !== undefined || init.raw !== undefined ? "POST" : "GET"),
      headers,
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Plain text.
    }
    return { status: response.status, body };
  };
  const farm: TestFarm = {
    dir,
    coordinator,
    agent,
    agents,
    url,
    token,
    api,
    async submit(body) {
      const response = await api("/jobs", { body });
      if (response.status !== 201)
        throw new Error(`submit failed: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body as JobResource;
    },
    async waitFor(jobId, done, timeoutMs = 180_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = (await api(`/jobs/${jobId}`)).body as JobResource;
        if (done(job)) return job;
        if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async stop() {
      await Promise.all(agents.map((one) => one.stop()));
      await coordinator.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return farm;
}

export const finished = (job: JobResource) => isFinalStatus(job.status);
