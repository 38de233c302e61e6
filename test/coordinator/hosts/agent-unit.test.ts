import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  agentConfigText,
  agentLayout,
  serviceAccountLayout,
} from "../../../coordinator/hosts/agent-layout.ts";
import { AGENT_HARDENING, agentUnitText } from "../../../coordinator/hosts/agent-unit.ts";
import { readAddHostRequest } from "../../../coordinator/hosts/host-request.ts";
import { layoutFor } from "../../../coordinator/hosts/provision-steps.ts";
import type { RemoteFacts } from "../../../coordinator/hosts/remote-facts.ts";
import { PACKAGE_ROOT } from "../../../coordinator/paths.ts";
import { ValidationError } from "../../../protocol/errors.ts";
import { parseInstalledAgentConfig } from "../../../protocol/installed-agent-config.ts";

/** The unit `hosts add` writes, and the options it passes to the agent. On a real systemd: target-tests/arm-host. */

const lines = (text: string) => text.split("\n");
const facts = (uid: number, systemd: boolean) =>
  ({ uid, systemd, home: uid === 0 ? "/root" : "/home/farm" }) as RemoteFacts;
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";

describe("the agent's systemd unit", () => {
  it("runs a root install as the dedicated user memfarm-agent, hardened, under /var/lib/memfarm-agent", () => {
    const layout = layoutFor(facts(0, true), "0.1.0-abc");
    assert.equal(layout.serviceUser, "memfarm-agent");
    assert.equal(layout.root, "/var/lib/memfarm-agent");
    const unit = lines(agentUnitText(layout, "/usr/bin/node", "arm1", true, {}));
    for (const line of ["User=memfarm-agent", "Group=memfarm-agent", "ReadWritePaths=/var/lib/memfarm-agent"])
      assert.ok(unit.includes(line), line);
    for (const line of AGENT_HARDENING) assert.ok(unit.includes(line), line);
    assert.ok(unit.includes("Delegate=yes"));
    assert.ok(unit.includes("WantedBy=multi-user.target"));
    // Both would make /sys/fs/cgroup read-only, and the agent writes its job cgroups there.
    assert.ok(!unit.some((line) => /^Protect(ControlGroups|KernelTunables)=/.test(line)));
  });

  it("keeps a user install in the SSH user's home, as that user, without User=", () => {
    const layout = layoutFor(facts(1000, true), "0.1.0-abc");
    assert.equal(layout.serviceUser, null);
    assert.equal(layout.root, "/home/farm/.memfarm");
    const unit = lines(agentUnitText(layout, "/usr/bin/node", "arm1", false, {}));
    assert.ok(!unit.some((line) => line.startsWith("User=")));
    assert.ok(unit.includes("WantedBy=default.target"));
    // A root install without systemd runs detached, from root's own home as before.
    assert.equal(layoutFor(facts(0, false), "v").root, "/root/.memfarm");
  });

  it("waits for the drain: TimeoutStopSec is --drain-timeout plus a minute", () => {
    const layout = serviceAccountLayout("v");
    const stop = (drainTimeout?: string) =>
      lines(agentUnitText(layout, "/usr/bin/node", "arm1", true, drainTimeout ? { drainTimeout } : {})).find(
        (line) => line.startsWith("TimeoutStopSec="),
      );
    assert.equal(stop(), "TimeoutStopSec=660");
    assert.equal(stop("2h"), "TimeoutStopSec=7260");
    assert.equal(stop("0"), "TimeoutStopSec=60");
  });

  it("ships the same hardening in deploy/systemd/memfarm-agent.service", () => {
    const shipped = lines(
      readFileSync(join(PACKAGE_ROOT, "deploy", "systemd", "memfarm-agent.service"), "utf8"),
    );
    for (const line of [
      ...AGENT_HARDENING,
      "Delegate=yes",
      "KillMode=mixed",
      "Environment=MEMFARM_CGROUP_DELEGATED=1",
    ])
      assert.ok(shipped.includes(line), line);
  });
});

describe("hosts add's agent options", () => {
  it("passes --memory, --no-new-jobs, --drain-timeout and --build-cache-size through the installed config", () => {
    const layout = agentLayout("/home/farm", "v");
    const options = { memory: "64G", noNewJobs: "22:00-06:00", drainTimeout: "30m", buildCacheSize: "40G" };
    const text = agentConfigText(layout, { name: "arm1", labels: {}, nats: ["nats://n1:4222"], options });
    assert.deepEqual(parseInstalledAgentConfig(text, "agent.json").options, options);
    // A config written before the options existed still reads.
    const old = JSON.parse(text);
    delete old.options;
    assert.deepEqual(parseInstalledAgentConfig(JSON.stringify(old), "agent.json").options, {});
  });

  it("refuses bad values before anything connects, naming the option", () => {
    const request = (fields: Record<string, string>) =>
      readAddHostRequest({ target: "ssh://farm@arm1", identity: KEY, ...fields });
    assert.deepEqual(request({ memory: "64G", drainTimeout: "90s", buildCacheSize: "40G" }).agentOptions, {
      memory: "64G",
      drainTimeout: "90s",
      buildCacheSize: "40G",
    });
    for (const [field, value, words] of [
      ["memory", "lots", /memory/],
      ["noNewJobs", "nightly", /noNewJobs/],
      ["drainTimeout", "soon", /drainTimeout.*not a duration/],
      ["drainTimeout", "30d", /drainTimeout.*must be/],
      ["buildCacheSize", "plenty", /buildCacheSize: "plenty" is not a size/],
    ] as const) {
      assert.throws(
        () => request({ [field]: value }),
        (thrown: unknown) => thrown instanceof ValidationError && words.test(thrown.message),
        `${field}=${value}`,
      );
    }
  });

  it("refuses an installed config with an unknown option", () => {
    const text = JSON.stringify({
      nats: ["nats://n1:4222"],
      creds: "/c",
      name: "arm1",
      labels: {},
      workDir: "/w",
      pidFile: "/p",
      options: { memroy: "1G" },
    });
    assert.throws(() => parseInstalledAgentConfig(text, "agent.json"), /options\.memroy/);
  });
});
