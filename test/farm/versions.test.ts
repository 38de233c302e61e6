import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { compileAgentConfig } from "../../agent/config.ts";
import { AgentDaemon } from "../../agent/daemon.ts";
import { Coordinator } from "../../coordinator/coordinator.ts";
import { connectNats } from "../../protocol/nats-connect.ts";
import { PROTOCOL_VERSION, type SpokenVersion, UNVERSIONED } from "../../protocol/protocol-version.ts";
import type { AgentResource } from "../../protocol/resources.ts";
import { inboxPrefixFor, Subjects } from "../../protocol/subjects.ts";
import { runCli } from "../helpers/cli.ts";
import { finished, startFarm, type TestFarm } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";
import { type RecordingLogger, recordingLogger } from "../helpers/recording-logger.ts";
import { until } from "../helpers/until.ts";

/**
 * Mixed versions on a real farm (nats-server, SQLite, regrtest). The coordinator pretends to be
 * 0.3.0 and the agents other releases (the test-only `pretendVersion` option), so the rule can be
 * seen at work without editing package.json.
 */
const COORDINATOR: SpokenVersion = { release: "0.3.0", protocol: PROTOCOL_VERSION };

describe("agents and the coordinator say their versions; the coordinator takes one minor behind", () => {
  let farm: TestFarm;
  let python: string;
  const coordinatorLog = recordingLogger();
  const started: AgentDaemon[] = [];

  /** An agent that says `version`; started, but not awaited (a refused one never joins). */
  async function agentSaying(name: string, version: SpokenVersion, log: RecordingLogger) {
    const agent = new AgentDaemon(
      compileAgentConfig({
        nats: farm.coordinator.natsUrls.join(","),
        creds: await farm.coordinator.natsAuthority.ensureLocalAgent(name),
        name,
        memory: "16G",
        labels: `which=${name}`,
        workDir: join(farm.dir, name),
        sampleIntervalMs: 200,
        drainTimeout: "0",
        pretendVersion: version,
      }),
      log,
    );
    started.push(agent);
    return { agent, joined: agent.start() };
  }

  const agents = async () => ((await farm.api("/agents")).body as { agents: AgentResource[] }).agents;

  /** Waits for the refused agent's error line and the coordinator's warning, and returns both messages. */
  async function refusal(name: string, log: RecordingLogger) {
    const agentLine = await until(
      async () => log.records.find((record) => record.level === "error" && /refused/.test(record.message)),
      `${name} logging the refusal`,
    );
    const coordinatorLine = await until(
      async () =>
        coordinatorLog.records.find(
          (record) =>
            record.message === "rejected a register request" &&
            String(record.fields.subject).includes(`.${name}.`),
        ),
      `the coordinator logging the refusal of ${name}`,
    );
    return { agent: String(agentLine.fields.error), coordinator: String(coordinatorLine.fields.error) };
  }

  before(async () => {
    python = findTestPython();
    farm = await startFarm({
      coordinatorVersion: COORDINATOR,
      agentVersion: COORDINATOR,
      coordinatorLog,
    });
  });
  after(async () => {
    await Promise.all(started.map((agent) => agent.stop()));
    await farm?.stop();
  });

  it("takes an agent of its own version and one a minor version behind, and both run jobs", async () => {
    const { joined } = await agentSaying(
      "behind",
      { release: "0.2.4", protocol: PROTOCOL_VERSION },
      recordingLogger(),
    );
    await joined;
    const listed = await agents();
    assert.deepEqual(
      listed.map((agent) => [agent.name, agent.version, agent.protocolVersion]),
      [
        ["behind", "0.2.4", PROTOCOL_VERSION],
        ["test-agent", "0.3.0", PROTOCOL_VERSION],
      ],
    );
    for (const name of ["behind", "test-agent"]) {
      const labels = name === "behind" ? { which: "behind" } : {};
      const queued = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"], labels });
      const job = await farm.waitFor(queued.id, finished);
      assert.equal(job.status, "passed", job.error ?? "");
      if (name === "behind") assert.equal(job.agent, "behind");
    }
  });

  it("refuses an agent two minor versions behind with the command that upgrades it, and gives it no job", async () => {
    const log = recordingLogger();
    await agentSaying("too-old", { release: "0.1.0", protocol: PROTOCOL_VERSION }, log);
    const { agent, coordinator } = await refusal("too-old", log);
    const expected =
      'this agent too-old runs memfarm 0.1.0 (protocol 1), more than one minor version behind the coordinator\'s memfarm 0.3.0 (protocol 1) (it takes 0.3.x and 0.2.x): upgrade the agent with "memfarm hosts upgrade too-old" (or install memfarm 0.3 on that host and restart the agent)';
    assert.equal(agent, expected);
    assert.equal(coordinator, expected);
    // It stays up, waiting, but never joins: no row, so no job is placed on it.
    assert.ok(!(await agents()).some((one) => one.name === "too-old"));
    // A job only it could run is refused at once: the farm does not count it among its agents.
    const refused = await farm.api("/jobs", {
      body: { suite: "bigmem-smoke", python, tests: ["test_bool"], labels: { which: "too-old" } },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, "never_runnable");
  });

  it("refuses an agent that says no version (from before 0.1.0) the same way", async () => {
    const log = recordingLogger();
    await agentSaying("unversioned", UNVERSIONED, log);
    const { agent, coordinator } = await refusal("unversioned", log);
    assert.match(
      agent,
      /runs memfarm from before 0\.1\.0 \(it sends no version\), more than one minor version behind/,
    );
    assert.match(agent, /memfarm hosts upgrade unversioned/);
    assert.equal(coordinator, agent);
  });

  it("refuses an agent of a newer protocol or release: upgrade the coordinator first, in both logs", async () => {
    const newerProtocol = recordingLogger();
    await agentSaying("newer-protocol", { release: "0.3.1", protocol: PROTOCOL_VERSION + 1 }, newerProtocol);
    const byProtocol = await refusal("newer-protocol", newerProtocol);
    const expected = `this agent newer-protocol runs memfarm 0.3.1 (protocol ${PROTOCOL_VERSION + 1}), which is newer than the coordinator's memfarm 0.3.0 (protocol ${PROTOCOL_VERSION}): upgrade the coordinator first, then the agent joins by itself`;
    assert.equal(byProtocol.agent, expected);
    assert.equal(byProtocol.coordinator, expected);

    const newerRelease = recordingLogger();
    await agentSaying("newer-release", { release: "0.4.0", protocol: PROTOCOL_VERSION }, newerRelease);
    const byRelease = await refusal("newer-release", newerRelease);
    assert.match(
      byRelease.agent,
      /runs memfarm 0\.4\.0 .*newer than the coordinator's memfarm 0\.3\.0 .*upgrade the coordinator first/,
    );
    assert.equal(byRelease.coordinator, byRelease.agent);
    assert.ok(!(await agents()).some((one) => one.name.startsWith("newer-")));
  });

  it("answers a register request with a bad version field with what is wrong, and changes nothing", async () => {
    const name = "bad-version";
    const nc = await connectNats(
      {
        servers: farm.coordinator.natsUrls,
        credsFile: await farm.coordinator.natsAuthority.ensureLocalAgent(name),
      },
      "versions-test-raw",
      { inboxPrefix: inboxPrefixFor(name) },
    );
    try {
      const facts = { hostname: "h", arch: "x86_64", cores: 2, memoryBytes: 2 ** 34, labels: {} };
      const request = { name, facts, running: [], finished: [], version: { major: 0 }, protocolVersion: 1 };
      const reply = await nc.request(Subjects.register(name), JSON.stringify(request), { timeout: 10_000 });
      const body = JSON.parse(new TextDecoder().decode(reply.data));
      assert.equal(body.ok, false);
      assert.equal(body.code, "invalid_version");
      assert.equal(body.field, "version");
      assert.match(
        body.error,
        /the agent's version must be a release like "0\.2\.0", not "\{\\"major\\":0\}"/,
      );
      assert.ok(!(await agents()).some((one) => one.name === name));
    } finally {
      await nc.close();
    }
  });

  it("memfarm hosts, /metrics and the hosts page show each agent's version and which versions the coordinator takes", async () => {
    const env = { MEMFARM_URL: farm.url, MEMFARM_TOKEN: farm.token };
    const text = await runCli(["hosts"], env);
    assert.equal(text.code, 0, text.stderr);
    const [header, ...rows] = text.stdout.trimEnd().split("\n");
    assert.match(header ?? "", /^NAME\s+STATE\s+VERSION\s+ARCH/);
    const versionOf = (name: string) => rows.find((row) => row.startsWith(`${name} `))?.split(/\s+/)[2];
    assert.equal(versionOf("behind"), "0.2.4");
    assert.equal(versionOf("test-agent"), "0.3.0");
    assert.equal(
      rows.at(-1),
      `coordinator 0.3.0 (protocol ${PROTOCOL_VERSION}) takes agents 0.3.x and 0.2.x`,
    );

    const json = await runCli(["hosts", "--json"], env);
    const listed = JSON.parse(json.stdout) as {
      agents: AgentResource[];
      coordinator: { version: string; protocolVersion: number; takesAgents: string };
    };
    assert.deepEqual(listed.coordinator, {
      version: "0.3.0",
      protocolVersion: PROTOCOL_VERSION,
      takesAgents: "0.3.x and 0.2.x",
    });
    assert.equal(listed.agents.find((agent) => agent.name === "behind")?.version, "0.2.4");

    const metrics = await (await fetch(`${farm.url}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(
        `^memfarm_agent_version_info\\{agent="behind",version="0\\.2\\.4",protocol="${PROTOCOL_VERSION}"\\} 1$`,
        "m",
      ),
    );

    const page = await (await fetch(`${farm.url}/hosts`)).text();
    assert.match(page, /<td class="agent-version">0\.2\.4<div class="muted">protocol 1<\/div><\/td>/);
  });
});

describe("a coordinator upgraded past its agents turns them away", () => {
  it("marks an agent it no longer takes lost at start, and refuses it when it registers again", async () => {
    const agentLog = recordingLogger();
    // 0.2.0 takes a 0.1.x agent (one minor behind)...
    const farm = await startFarm({
      coordinatorVersion: { release: "0.2.0", protocol: PROTOCOL_VERSION },
      agentVersion: { release: "0.1.3", protocol: PROTOCOL_VERSION },
      agentLog,
    });
    let upgraded: Coordinator | null = null;
    try {
      const before = (await farm.api("/agents")).body.agents as AgentResource[];
      assert.deepEqual(
        before.map((agent) => [agent.name, agent.state, agent.version]),
        [["test-agent", "online", "0.1.3"]],
      );
      // ...and 0.3.0, on the same data and NATS port, does not: the agent is lost at once, before
      // its next heartbeat could keep it in the farm.
      const natsPort = Number(new URL(farm.coordinator.natsUrls[0] ?? "").port);
      await farm.coordinator.stop();
      upgraded = await Coordinator.start(
        {
          ...farm.coordinator.config,
          embeddedNatsPort: natsPort,
          version: { release: "0.3.0", protocol: PROTOCOL_VERSION },
        },
        recordingLogger(),
      );
      const api = async () => {
        const response = await fetch(`${upgraded?.httpUrl}/api/v1/agents`);
        return ((await response.json()) as { agents: AgentResource[] }).agents;
      };
      assert.deepEqual(
        (await api()).map((agent) => [agent.name, agent.state]),
        [["test-agent", "lost"]],
      );
      const refused = await until(
        async () =>
          agentLog.records.find((record) => record.level === "error" && /refused/.test(record.message)),
        "the agent logging that the upgraded coordinator refused it",
      );
      assert.match(
        String(refused.fields.error),
        /0\.1\.3 .*more than one minor version behind .*memfarm hosts upgrade test-agent/,
      );
      assert.equal((await api())[0]?.state, "lost");
    } finally {
      await farm.agent.stop();
      await upgraded?.stop();
      rmSync(farm.dir, { recursive: true, force: true });
    }
  });
});
