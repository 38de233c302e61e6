import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PACKAGE_ROOT } from "../../../coordinator/paths.ts";
import { finished, startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";

/** One sample line of Prometheus's text format: name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line in Prometheus's text format: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

describe("GET /metrics", () => {
  let farm: TestFarm;
  before(async () => {
    farm = await startFarm();
  });
  after(async () => farm?.stop());

  const scrape = async () => {
    const response = await fetch(`${farm.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    return parseSamples(await response.text());
  };
  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    samples.find(
      (sample) =>
        sample.name === name && Object.entries(labels).every(([key, want]) => sample.labels[key] === want),
    )?.value;

  it("counts the queue, the outcomes and the timings of real jobs, per agent and per route", async () => {
    const python = findTestPython();
    const ran = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });
    const done = await farm.waitFor(ran.id, finished);
    assert.equal(done.status, "passed");
    await farm.api(`/jobs/${done.id}`);
    // A drained agent takes nothing new: the next job waits in the queue.
    assert.equal((await farm.api("/agents/test-agent/drain", { method: "POST" })).status, 200);
    const held = await farm.submit({ suite: "bigmem-smoke", python, tests: ["test_bool"] });

    // The agent's own figures come with its heartbeats: wait for one sent after the job was sampled.
    let samples = await scrape();
    for (
      let tries = 0;
      (value(samples, "memfarm_agent_sampler_cpu_seconds_total", { agent: "test-agent" }) ?? 0) === 0;
      tries++
    ) {
      assert.ok(tries < 100, "a heartbeat brings the agent's own figures");
      await new Promise((resolve) => setTimeout(resolve, 100));
      samples = await scrape();
    }
    assert.equal(value(samples, "memfarm_jobs_queued", { suite: "bigmem-smoke", priority: "normal" }), 1);
    assert.equal(
      value(samples, "memfarm_jobs_finished_total", { suite: "bigmem-smoke", outcome: "passed" }),
      1,
    );
    const labels = { suite: "bigmem-smoke", outcome: "passed" };
    assert.equal(value(samples, "memfarm_job_running_seconds_count", labels), 1);
    assert.ok((value(samples, "memfarm_job_running_seconds_sum", labels) ?? 0) > 0);
    assert.equal(value(samples, "memfarm_job_start_latency_seconds_count", { suite: "bigmem-smoke" }), 1);
    assert.equal(value(samples, "memfarm_job_queued_seconds_count", { suite: "bigmem-smoke" }), 1);

    const agent = { agent: "test-agent" };
    assert.ok((value(samples, "memfarm_agent_capacity_bytes", agent) ?? 0) > 0);
    assert.equal(value(samples, "memfarm_agent_running_jobs", agent), 0);
    assert.equal(value(samples, "memfarm_agent_state", { ...agent, state: "draining" }), 1);
    assert.equal(value(samples, "memfarm_agent_state", { ...agent, state: "online" }), 0);
    assert.equal(value(samples, "memfarm_agent_state", { ...agent, state: "lost" }), 0);
    assert.ok((value(samples, "memfarm_agent_heartbeat_age_seconds", agent) ?? 99) < 30);
    assert.equal(value(samples, "memfarm_nats_connected"), 1);
    // The agent's own cost, from its heartbeats: it sampled a job, so its sampler spent some CPU.
    const agentCpu = value(samples, "memfarm_agent_process_cpu_seconds_total", agent) ?? 0;
    const samplerCpu = value(samples, "memfarm_agent_sampler_cpu_seconds_total", agent) ?? 0;
    assert.ok(
      samplerCpu > 0 && samplerCpu < agentCpu,
      `sampler ${samplerCpu} s of the agent's ${agentCpu} s`,
    );
    assert.ok((value(samples, "memfarm_agent_process_resident_bytes", agent) ?? 0) > 0);
    assert.equal(typeof value(samples, "memfarm_report_stream_backlog"), "number");
    assert.ok((value(samples, "memfarm_database_size_bytes") ?? 0) > 0);
    assert.ok(
      (value(samples, "memfarm_coordinator_process_cpu_seconds_total") ?? -1) >= 0,
      "the process's own metrics",
    );

    // Requests are labelled by their route's pattern: a job id never becomes a label value.
    const routes = samples
      .filter((sample) => sample.name === "memfarm_http_request_duration_seconds_count")
      .map((sample) => sample.labels.route);
    assert.ok(routes.includes("/api/v1/jobs/:id"), routes.join(", "));
    assert.ok(!routes.some((route) => /\/\d+/.test(route ?? "")), routes.join(", "));

    await farm.api(`/jobs/${held.id}/cancel`, { body: {} });
    assert.equal(
      value(await scrape(), "memfarm_jobs_queued", { suite: "bigmem-smoke", priority: "normal" }),
      undefined,
    );
  });

  it("ships a Grafana dashboard whose every query names a metric the coordinator serves", async () => {
    const text = await (await fetch(`${farm.url}/metrics`)).text();
    // Declared metrics (a labelled counter has no sample before its first increment) and their series.
    const served = new Set<string>();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      served.add(name as string);
      if (type === "histogram")
        for (const suffix of ["_bucket", "_sum", "_count"]) served.add(`${name}${suffix}`);
    }
    const dashboard = JSON.parse(
      readFileSync(join(PACKAGE_ROOT, "deploy", "grafana", "memfarm-dashboard.json"), "utf8"),
    ) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
    assert.equal(dashboard.uid, "memfarm");
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    assert.ok(queries.length >= 10);
    for (const query of queries) {
      const names = query.match(/\bmemfarm_\w+/g) ?? [];
      assert.ok(names.length > 0, `${query} names a memfarm metric`);
      for (const name of names) assert.ok(served.has(name), `${name} (in "${query}") is served by /metrics`);
    }
  });
});
