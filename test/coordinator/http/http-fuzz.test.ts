import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { between, pick, seededRandom } from "../../../bench/packing/rng.ts";
import type { CreatedTokenResource, JobResource } from "../../../protocol/resources.ts";
import { finished, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";

/** Same seed, same cases: a failure names its seed and case number so it can be replayed. */
const SEED = Number(process.env.MEMFARM_FUZZ_SEED ?? 20_250_611);
const CASES_PER_ENDPOINT = 64;
const BODY_LIMIT = 64 * 1024;

interface FuzzCase {
  kind: string;
  body: string | Uint8Array;
  contentType: string | null;
}

type Random = () => number;

/** Values of the wrong type for each kind of field (a string field gets no string, and so on). */
const NOT_STRING: unknown[] = [true, 0, -1, 1e308, 3.5, [], ["x"], {}, { a: 1 }, [["x"]]];
const WRONG_FOR: Record<string, unknown[]> = {
  tests: [true, 0, "test_bool", {}, [1], [null], [["test_bool"]], [{ a: 1 }]],
  labels: [true, 0, "pool=x", [], ["a"], { a: 1 }, { a: null }, { a: {} }],
  exclusive: [0, 1, "yes", "true", [], {}],
};
const wrongValueFor = (random: Random, field: string) => pick(random, WRONG_FOR[field] ?? NOT_STRING);

const WRONG_VALUES: unknown[] = [
  true,
  false,
  0,
  -1,
  1e308,
  3.5,
  [],
  [1, 2],
  {},
  { a: 1 },
  "",
  [["x"]],
  { $gt: "" },
];

function deep(random: Random): string {
  const depth = between(random, 500, 20_000);
  return random() < 0.5
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

function randomBytes(random: Random): Uint8Array {
  return Uint8Array.from({ length: between(random, 1, 2000) }, () => between(random, 0, 255));
}

/** Broken JSON: cut short, wrong quotes, trailing commas, JavaScript rather than JSON. */
function malformed(random: Random, valid: string): string {
  return pick(random, [
    () => valid.slice(0, between(random, 1, Math.max(1, valid.length - 1))),
    () => valid.replace(/"/g, "'"),
    () => valid.replace(/}$/, ",}"),
    () => `${valid}${valid}`,
    () => "{suite: bigmem}",
    () => "{",
    () => "[",
    () => '{"a":NaN}',
    () => '{"a":undefined}',
    () => "\u0000",
    () => '"just a string"',
    () => "12",
    () => "null",
    () => '{"a":1}}',
    () => "\ufeff{}x",
  ])();
}

/**
 * Bodies that must all be refused by `endpoint`: `valid` is a body it would
 * accept (empty for calls that take none), `fields` the fields it knows.
 */
function makeCase(random: Random, valid: Record<string, unknown> | null, fields: string[]): FuzzCase {
  const json = "application/json";
  const base = valid ?? {};
  const kind = pick(random, [
    "malformed",
    "wrong-type",
    "huge",
    "unknown-field",
    "deep",
    "bytes",
    "content-type",
  ]);
  switch (kind) {
    case "malformed":
      return { kind, body: malformed(random, JSON.stringify({ ...base, x: 1 })), contentType: json };
    case "wrong-type": {
      if (fields.length === 0)
        return { kind, body: JSON.stringify(pick(random, [[1], ["a"], [{}], { a: [] }])), contentType: json };
      const field = pick(random, fields);
      return {
        kind,
        body: JSON.stringify({ ...base, [field]: wrongValueFor(random, field) }),
        contentType: json,
      };
    }
    case "huge": {
      const filler = "x".repeat(BODY_LIMIT + between(random, 1, 200_000));
      return {
        kind,
        body: JSON.stringify({ ...base, [pick(random, [...fields, "pad"])]: filler }),
        contentType: json,
      };
    }
    case "unknown-field": {
      const key = pick(random, [
        "bogus",
        "__proto__",
        "constructor",
        "id",
        "status",
        "agent",
        "token",
        "ownerx",
      ]);
      const text = JSON.stringify({ ...base }).replace(
        /^\{/,
        `{"${key}":${JSON.stringify(pick(random, WRONG_VALUES))}${Object.keys(base).length ? "," : ""}`,
      );
      return { kind, body: text, contentType: json };
    }
    case "deep": {
      const nested = deep(random);
      const body =
        random() < 0.5 || fields.length === 0
          ? nested
          : JSON.stringify({ ...base, [pick(random, fields)]: 0 }).replace(/0\}$/, `${nested}}`);
      return { kind, body, contentType: json };
    }
    case "bytes":
      return { kind, body: randomBytes(random), contentType: pick(random, [json, null]) };
    default:
      return {
        kind,
        body: random() < 0.5 ? JSON.stringify(base) || "{}" : "suite=bigmem-smoke&python=/usr/bin/python3",
        contentType: pick(random, [
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x",
          "application/xml",
          "text/json",
          null,
        ]),
      };
  }
}

describe("fuzzed HTTP bodies at every mutating endpoint", () => {
  let farm: TestFarm;
  let jobId: number;
  let bob: CreatedTokenResource;
  let python: string;
  before(async () => {
    python = findTestPython();
    farm = await startFarm({ agentName: "fuzz-agent" });
    const job = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });
    jobId = (await farm.waitFor(job.id, finished)).id;
    bob = (await farm.api("/tokens", { body: { owner: "bob" } })).body as CreatedTokenResource;
  });
  after(async () => {
    await farm?.stop();
  });

  const send = async (path: string, fuzz: FuzzCase) => {
    const headers: Record<string, string> = { authorization: `Bearer ${farm.token}` };
    if (fuzz.contentType) headers["content-type"] = fuzz.contentType;
    const body = typeof fuzz.body === "string" ? fuzz.body : new Blob([fuzz.body]);
    const response = await fetch(`${farm.url}/api/v1${path}`, { method: "POST", headers, body });
    const text = await response.text();
    return { status: response.status, text };
  };
  const state = async () => ({
    jobs: ((await farm.api("/jobs?limit=500")).body.jobs as JobResource[]).map((job) => [job.id, job.status]),
    tokens: (await farm.api("/tokens")).body.tokens,
    agents: (await farm.api("/agents")).body.agents.map((agent: { name: string; state: string }) => [
      agent.name,
      agent.state,
    ]),
  });

  it(`refuses every case with a 4xx and the error JSON, changes nothing, and keeps serving (seed ${SEED})`, async () => {
    const endpoints: { path: string; valid: Record<string, unknown> | null; fields: string[] }[] = [
      {
        path: "/jobs",
        valid: { suite: "bigmem-smoke", python, tests: ["test_bool"], memlimit: "2G", priority: "low" },
        fields: ["suite", "python", "ref", "repo", "memlimit", "tests", "priority", "labels", "exclusive"],
      },
      { path: `/jobs/${jobId}/cancel`, valid: null, fields: [] },
      { path: `/jobs/${jobId}/retry`, valid: null, fields: [] },
      { path: "/agents/fuzz-agent/drain", valid: null, fields: [] },
      { path: "/agents/fuzz-agent/undrain", valid: null, fields: [] },
      { path: "/tokens", valid: { owner: "carol" }, fields: ["owner"] },
      { path: `/tokens/${bob.id}/revoke`, valid: null, fields: [] },
    ];
    const before = await state();
    const random = seededRandom(SEED);
    let count = 0;
    for (const endpoint of endpoints) {
      for (let n = 0; n < CASES_PER_ENDPOINT; n += 1) {
        const fuzz = makeCase(random, endpoint.valid, endpoint.fields);
        const where = `seed ${SEED}, case ${count} (${fuzz.kind}) at POST ${endpoint.path}`;
        const { status, text } = await send(endpoint.path, fuzz);
        assert.ok(status >= 400 && status < 500, `${where}: HTTP ${status} ${text.slice(0, 300)}`);
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        assert.equal(typeof body.error?.code, "string", `${where}: ${text.slice(0, 300)}`);
        assert.equal(typeof body.error?.message, "string", `${where}: ${text.slice(0, 300)}`);
        if (fuzz.kind === "huge" && fuzz.contentType === "application/json") assert.equal(status, 413, where);
        count += 1;
        if (count % 50 === 0) assert.equal((await farm.api("/healthz")).status, 200, `${where}: healthz`);
      }
    }
    assert.ok(count >= 400);
    assert.deepEqual(await state(), before, "no job, token or agent state changed");
    const health = await farm.api("/healthz");
    assert.deepEqual([health.status, health.body.ok], [200, true]);
  });
});
