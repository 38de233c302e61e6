import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { seededRandom } from "../../../bench/packing/rng.ts";
import { natsAuthPaths } from "../../../coordinator/nats/credentials/nats-authority.ts";
import { connectNats } from "../../../protocol/nats-connect.ts";
import type { AgentResource, JobResource, LogLineResource } from "../../../protocol/resources.ts";
import { inboxPrefixFor, Subjects } from "../../../protocol/subjects.ts";
import { finished, startFarm, type TestFarm } from "../../helpers/farm.ts";
import {
  type FuzzCase,
  type MessageShape,
  makeCase,
  SERVER_MAX_PAYLOAD,
} from "../../helpers/nats-fuzz-cases.ts";
import { findTestPython } from "../../helpers/python.ts";
import { type RecordingLogger, recordingLogger } from "../../helpers/recording-logger.ts";

/** Same seed, same cases: a failure names its seed and case number so it can be replayed. */
const SEED = Number(process.env.MEMFARM_FUZZ_SEED ?? 20_250_612);
const CASES_PER_SUBJECT = 40;
const REAL = "real-agent";
const ROGUE = "rogue-agent";
/** A line no real run prints: it must never reach a job's log. */
const MARKER = "FORGED-BY-THE-NATS-FUZZ-TEST";
const GiB = 1024 ** 3;

// biome-ignore lint/suspicious/noExplicitAny: replies are arbitrary JSON, checked by the assertions
type Reply = any;

const shapes = (job: { id: string; attempt: string }) => {
  const register: MessageShape = {
    // The rogue registers as draining: placement never gives it work.
    valid: () => ({
      name: ROGUE,
      facts: {
        hostname: "rogue-host",
        arch: "x86_64",
        cores: 2,
        memoryBytes: 64 * GiB,
        labels: { pool: "rogue" },
        blackouts: [{ fromMinute: 0, toMinute: 60 }],
      },
      running: [],
      finished: [],
      draining: true,
    }),
    fields: [
      { path: ["name"], kind: "name" },
      { path: ["facts"], kind: "object" },
      { path: ["facts", "hostname"], kind: "string" },
      { path: ["facts", "arch"], kind: "string" },
      { path: ["facts", "cores"], kind: "count" },
      { path: ["facts", "memoryBytes"], kind: "count" },
      { path: ["facts", "labels"], kind: "object", optional: true },
      { path: ["facts", "blackouts"], kind: "objects", optional: true },
      { path: ["running"], kind: "ids" },
      { path: ["draining"], kind: "bool", optional: true },
    ],
    validIsAccepted: true,
  };
  const heartbeat: MessageShape = {
    valid: () => ({ name: ROGUE, usedBytes: 0, running: [], finished: [], draining: true }),
    fields: [
      { path: ["name"], kind: "name" },
      { path: ["usedBytes"], kind: "count" },
      { path: ["running"], kind: "ids" },
      { path: ["draining"], kind: "bool", optional: true },
    ],
    validIsAccepted: true,
  };
  const handBack: MessageShape = {
    // The real agent's attempt: the rogue may not hand it back, however the message is written.
    valid: () => ({ name: ROGUE, attemptId: job.attempt, reason: "fuzz" }),
    fields: [
      { path: ["name"], kind: "name" },
      { path: ["attemptId"], kind: "id" },
      { path: ["reason"], kind: "string" },
    ],
    validIsAccepted: false,
  };
  const progress: MessageShape = {
    valid: () => ({
      kind: "progress",
      attemptId: job.attempt,
      seq: 1_000_000,
      started: true,
      log: [{ stream: "stdout", text: MARKER }],
      samples: [{ at: Date.now(), rssBytes: 1, cpuPercent: 1, processes: 1 }],
      tests: [
        {
          name: "test_bool",
          kind: "file",
          outcome: "failed",
          startedAt: null,
          durationSeconds: 1,
          peakRssBytes: 1,
          detail: MARKER,
        },
      ],
    }),
    fields: [
      { path: ["kind"], kind: "string" },
      { path: ["attemptId"], kind: "id" },
      { path: ["seq"], kind: "count" },
      { path: ["started"], kind: "bool" },
      { path: ["log"], kind: "objects" },
      { path: ["samples"], kind: "objects" },
    ],
    validIsAccepted: false,
  };
  const result: MessageShape = {
    valid: () => ({
      kind: "result",
      attemptId: job.attempt,
      status: "failed",
      exitCode: 2,
      signal: null,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      peakRssBytes: 1,
      counts: { run: 1, failed: 1, skipped: 0 },
      failedTests: ["test_bool"],
      error: MARKER,
      limitBytes: null,
      limitKind: null,
      lastSeq: 1_000_000,
    }),
    fields: [
      { path: ["kind"], kind: "string" },
      { path: ["attemptId"], kind: "id" },
      { path: ["status"], kind: "string" },
      { path: ["startedAt"], kind: "string" },
      { path: ["finishedAt"], kind: "string" },
      { path: ["lastSeq"], kind: "count" },
    ],
    validIsAccepted: false,
  };
  const assignment: MessageShape = {
    // Valid except that it breaks one field; an unknown job on a python that does not exist.
    valid: () => ({
      attemptId: "999999-1",
      python: "/nonexistent/python3",
      build: null,
      args: ["-m", "test", "test_bool"],
      limitBytes: 2 * GiB,
      timeoutSeconds: 60,
      noOutputTimeoutSeconds: 0,
    }),
    fields: [
      { path: ["attemptId"], kind: "id" },
      { path: ["python"], kind: "string" },
      { path: ["args"], kind: "strings" },
      { path: ["limitBytes"], kind: "count" },
      { path: ["timeoutSeconds"], kind: "count" },
      { path: ["noOutputTimeoutSeconds"], kind: "count" },
    ],
    // Its extra fields would make it a real assignment for job 999999: that case is left out below.
    validIsAccepted: false,
  };
  const cancel: MessageShape = {
    valid: () => ({ attemptId: "999999-1" }),
    fields: [{ path: ["attemptId"], kind: "id" }],
    validIsAccepted: true,
  };
  const probe: MessageShape = {
    valid: () => ({ python: "/nonexistent/python3" }),
    fields: [{ path: ["python"], kind: "string" }],
    validIsAccepted: true,
  };
  return { register, heartbeat, handBack, progress, result, assignment, cancel, probe };
};

/** A refusal's text a person can read: says something, and does not echo a megabyte back. */
function assertReadableError(text: unknown, where: string): void {
  assert.equal(typeof text, "string", `${where}: no error text`);
  assert.ok(
    (text as string).length > 0 && (text as string).length <= 1000,
    `${where}: error text of ${(text as string).length} chars`,
  );
}

describe("fuzzed NATS messages on every subject agents and the coordinator listen on", () => {
  let farm: TestFarm;
  let python: string;
  const coordinatorLog = recordingLogger();
  const agentLog = recordingLogger();
  let rogue: NatsConnection;
  let rogueJs: JetStreamClient;
  let boss: NatsConnection;
  let rogueBeat: NodeJS.Timeout | undefined;
  /** From the first test: the real job that ran during the barrage, and the job held for the rogue. */
  let real: { id: number; attempt: string };
  let heldJobId: number;
  /** What the rogue's heartbeats say: it keeps beating, as a live agent does. */
  let rogueHeartbeat: Record<string, unknown>;

  before(async () => {
    python = findTestPython();
    farm = await startFarm({ agentName: REAL, coordinatorLog, agentLog });
    const servers = farm.coordinator.natsUrls;
    const issued = await farm.coordinator.natsAuthority.issue(ROGUE);
    const credsFile = join(farm.dir, "rogue.nk");
    writeFileSync(credsFile, issued.credentials, { mode: 0o600 });
    rogue = await connectNats({ servers, credsFile }, "fuzz-rogue", { inboxPrefix: inboxPrefixFor(ROGUE) });
    rogueJs = jetstream(rogue);
    boss = await connectNats(
      { servers, credsFile: natsAuthPaths(join(farm.dir, "data")).coordinatorSeed },
      "fuzz-coordinator-identity",
    );
  });
  after(async () => {
    clearInterval(rogueBeat);
    await rogue?.close();
    await boss?.close();
    await farm?.stop();
  });

  const request = async (
    nc: NatsConnection,
    subject: string,
    payload: string | Uint8Array,
  ): Promise<Reply> => {
    const reply = await nc.request(subject, payload, { timeout: 10_000 });
    return JSON.parse(new TextDecoder().decode(reply.data));
  };
  /** Waits for the coordinator to log a warning after `mark` (it applies reports in stream order). */
  const warningAfter = async (log: RecordingLogger, mark: number, where: string) => {
    for (let tries = 0; tries < 1000; tries += 1) {
      const warning = log.since(mark, "warn")[0];
      if (warning) return warning;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`${where}: no warning logged`);
  };
  const state = async () => ({
    jobs: ((await farm.api("/jobs?limit=500")).body.jobs as JobResource[]).map((job) => [job.id, job.status]),
    agents: ((await farm.api("/agents")).body.agents as AgentResource[]).map((agent) => [
      agent.name,
      agent.state,
      agent.memoryBytes,
      agent.capacityBytes,
      agent.labels,
    ]),
  });

  it(`refuses every broken message with an error and a warning, changes nothing, keeps running (seed ${SEED})`, async () => {
    // The rogue is a registered, draining agent: placement never picks it.
    const registered = await request(
      rogue,
      Subjects.register(ROGUE),
      JSON.stringify(shapes({ id: "1", attempt: "1-1" }).register.valid()),
    );
    assert.equal(registered.ok, true, JSON.stringify(registered));
    rogueHeartbeat = shapes({ id: "1", attempt: "1-1" }).heartbeat.valid();
    rogueBeat = setInterval(
      () =>
        void request(rogue, Subjects.heartbeat(ROGUE), JSON.stringify(rogueHeartbeat)).catch(() => undefined),
      1000,
    );

    // A job only the (draining) rogue could run: it waits, and its status must not move.
    const held = await farm.submit({
      suite: "bigmem-smoke",
      python,
      tests: ["test_bool"],
      labels: { pool: "rogue" },
    });
    heldJobId = held.id;
    const submitted = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });
    const assigned = await farm.waitFor(submitted.id, (job) => job.attempts.length > 0);
    const realAttempt = assigned.attempts[0]?.id as string;
    real = { id: submitted.id, attempt: realAttempt };
    const job = { id: String(real.id), attempt: realAttempt };
    const all = shapes(job);
    const before = await state();

    const targets: {
      name: string;
      shape: MessageShape;
      send: (payload: string | Uint8Array) => Promise<Reply>;
      log: RecordingLogger;
      /** Reports have no reply: a warning in the log is their only refusal. */
      replies: boolean;
    }[] = [
      {
        name: "register",
        shape: all.register,
        send: (p) => request(rogue, Subjects.register(ROGUE), p),
        log: coordinatorLog,
        replies: true,
      },
      {
        name: "heartbeat",
        shape: all.heartbeat,
        send: (p) => request(rogue, Subjects.heartbeat(ROGUE), p),
        log: coordinatorLog,
        replies: true,
      },
      {
        name: "hand-back",
        shape: all.handBack,
        send: (p) => request(rogue, Subjects.handBack(ROGUE), p),
        log: coordinatorLog,
        replies: true,
      },
      {
        name: "progress",
        shape: all.progress,
        send: (p) => rogueJs.publish(Subjects.reports(ROGUE), p),
        log: coordinatorLog,
        replies: false,
      },
      {
        name: "result",
        shape: all.result,
        send: (p) => rogueJs.publish(Subjects.reports(ROGUE), p),
        log: coordinatorLog,
        replies: false,
      },
      {
        name: "assign",
        shape: all.assignment,
        send: (p) => request(boss, Subjects.assign(REAL), p),
        log: agentLog,
        replies: true,
      },
      {
        name: "cancel",
        shape: all.cancel,
        send: (p) => request(boss, Subjects.cancel(REAL), p),
        log: agentLog,
        replies: true,
      },
      {
        name: "probe-python",
        shape: all.probe,
        send: (p) => request(boss, Subjects.probePython(REAL), p),
        log: agentLog,
        replies: true,
      },
    ];

    const random = seededRandom(SEED);
    let count = 0;
    const seen = new Map<string, number>();
    const failures: string[] = [];
    for (const target of targets) {
      for (let n = 0; n < CASES_PER_SUBJECT; n += 1) {
        const fuzz: FuzzCase = makeCase(random, target.shape);
        const where = `seed ${SEED}, case ${count} (${fuzz.kind}) on ${target.name}`;
        count += 1;
        if (target.name === "assign" && fuzz.kind === "extra-field") continue; // a real assignment
        seen.set(fuzz.kind, (seen.get(fuzz.kind) ?? 0) + 1);
        const mark = target.log.records.length;
        try {
          await (async () => {
            if (fuzz.expect === "client-refuses") {
              assert.ok(fuzz.payload.length > SERVER_MAX_PAYLOAD, where);
              await assert.rejects(target.send(fuzz.payload), /payload|max/i, where);
              return;
            }
            const reply = await target.send(fuzz.payload);
            if (!target.replies) {
              const warning = await warningAfter(target.log, mark, where);
              assertReadableError(warning.fields.error ?? warning.message, where);
              return;
            }
            if (fuzz.expect === "harmless") {
              assert.ok(
                JSON.stringify(reply).length < 4096,
                `${where}: a reply of ${JSON.stringify(reply).length} chars`,
              );
              return;
            }
            assert.ok(
              reply.ok === false || reply.accepted === false,
              `${where}: accepted: ${JSON.stringify(reply).slice(0, 300)}`,
            );
            assertReadableError(reply.error ?? reply.reason, where);
            const warnings = target.log.since(mark, "warn");
            assert.ok(warnings.length > 0, `${where}: no warning logged`);
          })();
        } catch (thrown) {
          // Every case runs, so one run shows everything the barrage finds.
          const message = thrown instanceof Error ? (thrown.message.split("\n")[0] ?? "") : String(thrown);
          failures.push(message.startsWith("seed ") ? message : `${where}: ${message}`);
        }
      }
      // Between subjects: the coordinator still answers HTTP and the agent is still online.
      assert.equal((await farm.api("/healthz")).status, 200, `healthz after ${target.name}`);
    }
    assert.deepEqual(failures, [], `${failures.length} cases got through`);
    assert.ok(count >= 300, `only ${count} cases`);
    for (const kind of [
      "invalid-json",
      "random-bytes",
      "wrong-type",
      "huge-value",
      "deep-nesting",
      "just-over-max-payload",
    ]) {
      assert.ok((seen.get(kind) ?? 0) > 0, `no ${kind} case ran`);
    }

    // What changed is what the real job did, nothing else.
    const done = await farm.waitFor(real.id, finished);
    assert.equal(done.status, "passed", done.error ?? "");
    assert.deepEqual(
      done.attempts.map((attempt) => [attempt.id, attempt.agent, attempt.status]),
      [[realAttempt, REAL, "passed"]],
    );
    const logText = (await farm.api(`/jobs/${real.id}/log?format=text`)).body as string;
    assert.ok(!logText.includes(MARKER), "a forged log line reached the real job's log");
    assert.match(logText, /^python \S+ at /, "the log starts with the interpreter check");
    assert.match(logText, /Tests result: SUCCESS/);
    const tests = (await farm.api(`/jobs/${real.id}/tests`)).body.tests as {
      name: string;
      outcome: string;
      detail: string | null;
    }[];
    assert.ok(
      tests.every((test) => test.detail !== MARKER && test.outcome !== "failed"),
      JSON.stringify(tests),
    );
    const after = await state();
    assert.deepEqual(
      after.jobs.filter(([id]) => id !== real.id),
      before.jobs.filter(([id]) => id !== real.id),
      "no other job changed",
    );
    assert.deepEqual(after.agents, before.agents, "no agent's state, memory, capacity or labels changed");
    assert.equal((await farm.api(`/jobs/${held.id}`)).body.status, "queued");
    const lines = (await farm.api(`/jobs/${real.id}/log`)).body.lines as LogLineResource[];
    assert.deepEqual(
      lines.map((line) => [line.lineNo, line.attemptId]),
      lines.map((_, n) => [n + 1, realAttempt]),
      "the real job's log is numbered without gaps, all from its own attempt",
    );
  });
  it("ignores duplicated and replayed messages, refuses stale ones, and the farm keeps working", async () => {
    const publishReport = async (nc: JetStreamClient, agent: string, report: Record<string, unknown>) =>
      nc.publish(Subjects.reports(agent), JSON.stringify(report));
    /** Reports are applied in stream order: once a broken one is refused, all before it were handled. */
    const barrier = async (mark: number) => {
      await rogueJs.publish(Subjects.reports(ROGUE), "not json");
      for (let tries = 0; tries < 1000; tries += 1) {
        if (
          coordinatorLog
            .since(mark, "warn")
            .some((record) => record.message === "rejected a malformed report")
        )
          return coordinatorLog.records.slice(mark);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.fail("the barrier report was never refused");
    };
    const jobOf = async (id: number) => (await farm.api(`/jobs/${id}`)).body as JobResource;

    // The rogue now behaves as an agent: it takes the job held for it, and reports on it itself.
    const taken: string[] = [];
    const subscription = rogue.subscribe(Subjects.assign(ROGUE), {
      callback: (_error, msg) => {
        const assignment = JSON.parse(new TextDecoder().decode(msg.data)) as { attemptId: string };
        taken.push(assignment.attemptId);
        rogueHeartbeat = { ...rogueHeartbeat, running: [assignment.attemptId], draining: false };
        msg.respond(JSON.stringify({ ok: true, accepted: true }));
      },
    });
    await rogue.flush();
    const online = { ...shapes({ id: "1", attempt: "1-1" }).register.valid(), draining: false };
    rogueHeartbeat = { ...rogueHeartbeat, draining: false };
    assert.equal((await request(rogue, Subjects.register(ROGUE), JSON.stringify(online))).ok, true);
    const assigned = await farm.waitFor(heldJobId, (job) => job.attempts.length > 0, 30_000);
    const attempt = assigned.attempts[0]?.id as string;
    assert.deepEqual([assigned.agent, taken], [ROGUE, [attempt]]);

    // A replayed register changes nothing (the agent, its attempt and its job stay as they are).
    const agentsBefore = await state();
    const replayed = JSON.stringify({ ...online, running: [attempt] });
    for (let n = 0; n < 3; n += 1) {
      const reply = await request(rogue, Subjects.register(ROGUE), replayed);
      assert.deepEqual([reply.ok, reply.stop], [true, []]);
    }
    assert.deepEqual(await state(), agentsBefore);

    const progress = (seq: number, text: string) => ({
      kind: "progress",
      attemptId: attempt,
      seq,
      started: true,
      log: [{ stream: "stdout", text }],
      samples: [],
      tests: [],
    });
    let mark = coordinatorLog.records.length;
    await publishReport(rogueJs, ROGUE, progress(1, "line 1"));
    await publishReport(rogueJs, ROGUE, progress(1, `${MARKER} seq 1 again`)); // the same seq twice
    await publishReport(rogueJs, ROGUE, progress(3, "line 3")); // early: waits for seq 2
    await publishReport(rogueJs, ROGUE, progress(2, "line 2"));
    await publishReport(rogueJs, ROGUE, progress(2, `${MARKER} an old seq after a newer one`));
    const logged = await barrier(mark);
    const ignored = logged.filter((record) => record.message === "ignored a report that was already applied");
    assert.deepEqual(
      ignored.map((record) => record.fields.seq),
      [1, 2],
      "each replayed seq is logged as ignored",
    );
    // Seq 3 came back after seq 2 was applied (redelivered a moment later).
    let lines: LogLineResource[] = [];
    for (let tries = 0; tries < 200 && lines.length < 3; tries += 1) {
      lines = (await farm.api(`/jobs/${heldJobId}/log`)).body.lines as LogLineResource[];
      if (lines.length < 3) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.deepEqual(
      lines.map((line) => line.text),
      ["line 1", "line 2", "line 3"],
      "applied once each, in the order they were sent",
    );
    assert.equal((await jobOf(heldJobId)).status, "running");

    const result = (attemptId: string, status: string) => ({
      kind: "result",
      attemptId,
      status,
      exitCode: status === "passed" ? 0 : 2,
      signal: null,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      peakRssBytes: 1,
      counts: { run: 1, failed: status === "passed" ? 0 : 1, skipped: 0 },
      failedTests: [],
      error: null,
      limitBytes: null,
      limitKind: null,
      lastSeq: 3,
    });
    // A result for another agent's attempt: refused. (A report names only its attempt, whose id
    // holds its job: there is no second job id on the wire that could name the wrong job.)
    mark = coordinatorLog.records.length;
    await publishReport(rogueJs, ROGUE, result(real.attempt, "failed"));
    await barrier(mark);
    const refusals = coordinatorLog.since(mark, "warn").map((record) => record.message);
    assert.deepEqual(refusals.slice(0, 1), ["rejected a report about another agent's attempt"]);
    assert.equal((await jobOf(real.id)).status, "passed");
    assert.equal((await jobOf(heldJobId)).status, "running");

    // Its own result applies once; the same again is ignored, a different one for the ended attempt is stale.
    await publishReport(rogueJs, ROGUE, result(attempt, "passed"));
    await publishReport(rogueJs, ROGUE, result(attempt, "passed"));
    mark = coordinatorLog.records.length;
    await publishReport(rogueJs, ROGUE, result(attempt, "failed"));
    await publishReport(rogueJs, ROGUE, progress(4, `${MARKER} progress after the result`));
    await barrier(mark);
    assert.deepEqual(
      coordinatorLog
        .since(mark, "warn")
        .map((record) => record.message)
        .slice(0, 2),
      [
        "rejected a result from an attempt that is not current",
        "rejected progress from an attempt that is not current",
      ],
    );
    const heldJob = await jobOf(heldJobId);
    assert.deepEqual([heldJob.status, heldJob.attempts.map((one) => one.status)], ["passed", ["passed"]]);
    subscription.unsubscribe();
    rogueHeartbeat = { ...rogueHeartbeat, running: [], draining: true };

    // The real agent: an assignment replayed for its finished attempt is refused, not run again.
    const replayedAssignment = {
      attemptId: real.attempt,
      python,
      build: null,
      args: ["-u", "-E", "-m", "test", "-M", "2G", "test_bool"],
      limitBytes: 3 * GiB,
      timeoutSeconds: 600,
      noOutputTimeoutSeconds: 0,
    };
    mark = agentLog.records.length;
    const refused = await request(boss, Subjects.assign(REAL), JSON.stringify(replayedAssignment));
    assert.equal(refused.accepted, false, JSON.stringify(refused));
    assertReadableError(refused.reason, "replayed assignment");
    assert.match(refused.reason, /already ran/);
    assert.ok(agentLog.since(mark, "warn").length > 0, "the refusal is logged");

    // Still running everywhere: the coordinator serves, the agent beats and takes a new job.
    assert.equal((await farm.api("/healthz")).body.ok, true);
    const beatBefore = ((await farm.api("/agents")).body.agents as AgentResource[]).find(
      (agent) => agent.name === REAL,
    )?.lastHeartbeatAt;
    const next = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });
    const nextAssigned = await farm.waitFor(next.id, (job) => job.attempts.length > 0);
    // The same assignment twice: taken once (accepted while it runs, refused once it ran).
    const again = await request(
      boss,
      Subjects.assign(REAL),
      JSON.stringify({
        ...replayedAssignment,
        attemptId: nextAssigned.attempts[0]?.id,
      }),
    );
    assert.ok(again.accepted === true || /already ran/.test(again.reason), JSON.stringify(again));
    const done = await farm.waitFor(next.id, finished);
    assert.deepEqual([done.status, done.agent, done.attempts.length], ["passed", REAL, 1]);
    const nextLog = (await farm.api(`/jobs/${next.id}/log?format=text`)).body as string;
    assert.equal(nextLog.match(/^Tests result: SUCCESS$/gm)?.length, 1, "the job ran once");
    // The agent still heartbeats: its last beat moves on.
    let agent: AgentResource | undefined;
    for (;;) {
      agent = ((await farm.api("/agents")).body.agents as AgentResource[]).find((one) => one.name === REAL);
      if (agent && agent.lastHeartbeatAt !== beatBefore) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(agent?.state, "online");
  });
});
