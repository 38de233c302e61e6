import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isFinalStatus } from "../../protocol/job-status.ts";
import type { JobResource } from "../../protocol/resources.ts";
import { CliProcess, processesMentioning } from "./cli.ts";
import { makeJobsDir } from "./farm.ts";

/** The nap suite's test: sleeps `NAP_SECONDS`, talking every second, so a job is alive long enough to kill things under it. */
export const NAP_SECONDS = 8;

function writeNapTests(dir: string, seconds: number): void {
  writeFileSync(
    join(dir, "test_nap.py"),
    [
      "import time, unittest",
      "class Nap(unittest.TestCase):",
      "    def test_nap(self):",
      `        for second in range(${seconds}):`,
      "            print('napping', second, flush=True)",
      "            time.sleep(1)",
      "",
    ].join("\n"),
  );
}

/**
 * A farm of separate real processes for chaos tests: the coordinator and each agent are `memfarm`
 * CLI processes that a test can SIGKILL and start again on the same data, against nats-servers the
 * test owns (NatsNode). Jobs use the "nap" suite: regrtest on a test that sleeps `napSeconds`
 * (NAP_SECONDS unless a benchmark wants shorter jobs).
 */
export class ProcessFarm {
  readonly dir = mkdtempSync(join(tmpdir(), "memfarm-chaos-"));
  private readonly jobsDir: string;
  private coordinator: CliProcess | null = null;
  private readonly agents = new Map<string, CliProcess>();
  url = "";
  /** The NATS servers the processes use; set before starting any. */
  natsUrls: string[] = [];

  /**
   * `smallNaps`: the nap suite reserves 128 MiB a job instead of its memlimit's worth, so that
   * dozens of jobs run at once on one agent (a test that needs many logs streaming together).
   * `suites`: more suite files beside nap, by name.
   */
  constructor(
    readonly napSeconds = NAP_SECONDS,
    options: { smallNaps?: boolean; suites?: Record<string, unknown> } = {},
  ) {
    const testDir = this.napTestsDir;
    mkdirSync(testDir);
    writeNapTests(testDir, napSeconds);
    this.jobsDir = makeJobsDir({
      nap: {
        description: "a test that naps, for chaos tests",
        args: ["--testdir", testDir, "-v"],
        workers: 1,
        memlimit: "2G",
        timeoutSeconds: 300,
        ...(options.smallNaps ? { reservation: { perWorker: "64M", overhead: "64M" } } : {}),
      },
      ...options.suites,
    });
  }

  /** The nap suite's --testdir: it appears on the command line of every nap test process. */
  get napTestsDir(): string {
    return join(this.dir, "nap-tests");
  }

  get dataDir(): string {
    return join(this.dir, "coordinator");
  }

  get token(): string {
    return readFileSync(join(this.dataDir, "admin-token"), "utf8").trim();
  }

  /** With the coordinator's embedded nats-server: how an agent on this machine joins, as it printed. */
  join: { nats: string; creds: string; name: string } | null = null;

  /** Agents' NATS credentials files, for a coordinator with an embedded nats-server. */
  private readonly credsFiles = new Map<string, string>();

  /**
   * Starts the coordinator against `natsUrls`, or with its own embedded nats-server. `lostAfter`:
   * its --lost-after (6 s here, shorter than the product's default, unless null: the default).
   */
  async startCoordinator(
    extra: string[] = [],
    options: { embeddedNats?: boolean; lostAfter?: string | null } = {},
  ): Promise<CliProcess> {
    const lostAfter = options.lostAfter === undefined ? "6" : options.lostAfter;
    const coordinator = new CliProcess([
      "coordinator",
      ...(options.embeddedNats ? [] : ["--nats", this.natsUrls.join(",")]),
      "--port",
      "0",
      "--data-dir",
      this.dataDir,
      "--jobs-dir",
      this.jobsDir,
      ...(lostAfter === null ? [] : ["--lost-after", lostAfter]),
      ...extra,
    ]);
    this.coordinator = coordinator;
    const [, url] = await coordinator.waitFor(/Dashboard:\s+(http:\/\/\S+?)\/?\n/, 60_000);
    this.url = url ?? "";
    if (options.embeddedNats) {
      const [, nats = "", creds = "", name = ""] = await coordinator.waitFor(
        / agent --nats (\S+) --creds (\S+) --name (\S+)/,
      );
      this.join = { nats, creds, name };
      this.natsUrls = [nats];
    }
    return coordinator;
  }

  async killCoordinator(): Promise<void> {
    await this.coordinator?.stop("SIGKILL");
    this.coordinator = null;
  }

  /** Issues an agent NATS credentials through the API (an embedded nats-server admits no one else). */
  async issueCredentials(name: string): Promise<string> {
    const issued = await this.api(`/agents/${name}/credentials`, {});
    if (issued.status !== 201) throw new Error(`credentials for ${name}: ${JSON.stringify(issued.body)}`);
    const file = join(this.dir, `${name}.nk`);
    writeFileSync(file, issued.body.credentials, { mode: 0o600 });
    this.credsFiles.set(name, file);
    return file;
  }

  /**
   * Starts an agent; `creds`: its NATS credentials file (an embedded nats-server requires one;
   * by default the one issueCredentials wrote for this name, if any).
   */
  async startAgent(
    name: string,
    creds = this.credsFiles.get(name),
    extra: string[] = [],
  ): Promise<CliProcess> {
    const agent = new CliProcess([
      "agent",
      "--nats",
      this.natsUrls.join(","),
      ...(creds ? ["--creds", creds] : []),
      "--name",
      name,
      "--memory",
      "8G",
      "--work-dir",
      join(this.dir, "agents", name),
      "--sample-interval-ms",
      "500",
      ...extra,
    ]);
    this.agents.set(name, agent);
    await agent.waitFor(/joined the farm/, 30_000);
    return agent;
  }

  async killAgent(name: string): Promise<void> {
    await this.agents.get(name)?.stop("SIGKILL");
    this.agents.delete(name);
  }

  // biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON and assert on its shape
  async api(path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.url}/api/v1${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async submitNap(python: string): Promise<JobResource> {
    const response = await this.api("/jobs", { suite: "nap", python, tests: ["test_nap"] });
    if (response.status !== 201)
      throw new Error(`submit: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as JobResource;
  }

  /** Polls the job until `done`; tolerates a coordinator that is down for a while. */
  async waitFor(
    jobId: number,
    done: (job: JobResource) => boolean,
    timeoutMs = 120_000,
  ): Promise<JobResource> {
    const deadline = Date.now() + timeoutMs;
    let last: JobResource | null = null;
    for (;;) {
      try {
        last = (await this.api(`/jobs/${jobId}`)).body as JobResource;
        if (done(last)) return last;
      } catch {
        // The coordinator is restarting.
      }
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${last?.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async waitUntilFinished(jobId: number, timeoutMs?: number): Promise<JobResource> {
    return this.waitFor(jobId, (job) => isFinalStatus(job.status), timeoutMs);
  }

  async stop(): Promise<void> {
    for (const agent of this.agents.values()) await agent.stop("SIGKILL");
    await this.coordinator?.stop("SIGKILL");
    // Test trees of agents killed mid-job live on in their own process groups.
    for (const pid of processesMentioning(this.dir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.jobsDir, { recursive: true, force: true });
  }
}
