import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PACKAGE_ROOT } from "../coordinator/paths.ts";
import { ArmHostVm } from "./arm-host-vm.ts";
import { buildArm64Payload } from "./arm64-payload.ts";

/**
 * Opt-in (`npm run test:arm-host`): the units of deploy/systemd/ on a real systemd with cgroup v2,
 * the aarch64 Debian 12 VM of ../shared/tools/arm-host/. The coordinator, a NATS node and an agent
 * run there as an admin would install them: from an unpacked package in /opt/memfarm (built here
 * for arm64 by arm64-payload.ts, since the VM reaches no registry), as their own system users, with
 * the shipped hardening. Each unit must start, come back after a crash, stop cleanly and leave
 * nothing behind; a job must run through the coordinator and NATS units on the agent unit, limited
 * in the cgroup systemd delegates to it.
 */

const DEPLOY = join(PACKAGE_ROOT, "deploy");
const UNITS = ["memfarm-coordinator.service", "memfarm-nats.service", "memfarm-agent.service"];
/** The coordinator's HTTP port in the shipped unit (the default). */
const HTTP = "http://127.0.0.1:8080";
/** The NATS node of this test listens apart from the coordinator's embedded server (4222). */
const NODE_PORT = 4322;

/**
 * The shipped node config as one node: its cluster block names three peers, and JetStream would
 * wait for a quorum of them. (A real 3-node cluster is what test/chaos/cluster.test.ts runs.)
 */
function singleNodeConfig(): string {
  const shipped = readFileSync(join(DEPLOY, "nats", "nats-node.conf"), "utf8");
  const withoutCluster = shipped.replace(/\ncluster \{[\s\S]*?\n\}\n/, "\n");
  assert.notEqual(withoutCluster, shipped, "the shipped config has a cluster block");
  return withoutCluster
    .replace("server_name: n1", "server_name: arm1")
    .replace("listen: 0.0.0.0:4222", `listen: 127.0.0.1:${NODE_PORT}`);
}

describe("the shipped systemd units on the arm-host VM", { timeout: 3_600_000 }, () => {
  const vm = new ArmHostVm();
  const root = (command: string) => vm.run(command, { user: "root" });
  /** `systemctl show UNIT -p ...` as a map. */
  const show = async (unit: string, ...properties: string[]) => {
    const text = await root(`systemctl show ${unit} ${properties.map((p) => `-p ${p}`).join(" ")}`);
    return new Map(
      text
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const),
    );
  };
  /** Polls a fixed command on the guest until its output matches. */
  const until = async (command: string, wanted: RegExp, timeoutMs = 300_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      last = await root(command).catch((thrown: Error) => thrown.message);
      if (wanted.test(last)) return last;
      if (Date.now() > deadline) throw new Error(`on the guest, ${command} still says: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  };
  /** The memfarm CLI on the guest, against the guest's coordinator with its admin token. */
  const cliCommand = (args: string) =>
    `MEMFARM_URL=${HTTP} MEMFARM_TOKEN=$(cat /var/lib/memfarm/admin-token) /opt/memfarm/bin/memfarm ${args}`;
  const cli = (args: string) => root(cliCommand(args));
  const healthz = `node -e 'fetch("${HTTP}/healthz", { signal: AbortSignal.timeout(10000) }).then(r => r.text()).then(t => console.log(t), e => console.log("down", e.message))'`;

  before(async () => {
    const missing = vm.missing();
    if (missing) throw new Error(missing);
    const payload = await buildArm64Payload();
    console.log(`# arm64 payload ${payload.tarball} (${(payload.bytes / 1024 ** 2).toFixed(0)} MiB)`);
    await vm.shutdown();
    await vm.boot((line) => console.log(`# ${line}`));
    await vm.upload(payload.tarball, "/tmp/memfarm.tar.gz");
    await root(
      "mkdir -p /opt/memfarm && tar -xzf /tmp/memfarm.tar.gz -C /opt/memfarm && rm /tmp/memfarm.tar.gz",
    );
    await root("install -m 0755 /opt/memfarm/bin/nats-server /usr/sbin/nats-server");
    // The files under test come from this checkout, not from the payload.
    await root("mkdir -p /opt/memfarm/deploy/systemd /opt/memfarm/deploy/nats");
    for (const file of [...UNITS, "memfarm.sysusers.conf"])
      await vm.run(`cat > /opt/memfarm/deploy/systemd/${file}`, {
        user: "root",
        input: readFileSync(join(DEPLOY, "systemd", file), "utf8"),
      });
    await root("systemd-sysusers /opt/memfarm/deploy/systemd/memfarm.sysusers.conf");
    for (const unit of UNITS)
      await root(`install -m 0644 /opt/memfarm/deploy/systemd/${unit} /etc/systemd/system/`);
    await root("systemctl daemon-reload");
  });

  after(async () => {
    if (process.env.KEEP_VM !== "1") await vm.shutdown();
  });

  it("passes systemd-analyze verify, as installed", async () => {
    const verified = await root(
      `cd /etc/systemd/system && systemd-analyze verify ${UNITS.join(" ")} 2>&1; echo "exit=$?"`,
    );
    assert.match(verified, /exit=0/, verified);
  });

  it("runs the coordinator as memfarm with its own nats-server inside the unit; a crash restarts it, a stop leaves nothing", async () => {
    await root("systemctl enable --now memfarm-coordinator.service");
    await until(healthz, /"ok":true/, 600_000);
    const unit = await show("memfarm-coordinator.service", "ActiveState", "User", "MainPID", "ControlGroup");
    assert.equal(unit.get("ActiveState"), "active");
    assert.equal(unit.get("User"), "memfarm");
    const owners = await root(
      `ps -o user=,comm= -p $(tr '\\n' ',' < /sys/fs/cgroup${unit.get("ControlGroup")}/cgroup.procs | sed 's/,$//')`,
    );
    assert.match(owners, /memfarm\s+node/, owners);
    assert.match(owners, /memfarm\s+nats-server/, "the embedded nats-server runs in the unit, as memfarm");
    const files = await root(
      "stat -c '%U %a %n' /var/lib/memfarm /var/lib/memfarm/memfarm.sqlite /var/lib/memfarm/admin-token",
    );
    assert.match(files, /^memfarm 750 \/var\/lib\/memfarm$/m);
    assert.match(files, /^memfarm 600 \/var\/lib\/memfarm\/admin-token$/m);

    // A crash: the whole unit goes (its nats-server too) and comes back in RestartSec.
    await root(`kill -KILL ${unit.get("MainPID")}`);
    await until(
      "systemctl show memfarm-coordinator.service -p NRestarts -p ActiveState",
      /NRestarts=1[\s\S]*ActiveState=active|ActiveState=active[\s\S]*NRestarts=1/,
    );
    await until(healthz, /"ok":true/, 600_000);
    assert.equal(
      (await root("pgrep -c -u memfarm nats-server")).trim(),
      "1",
      "one nats-server, not an orphan and a new one",
    );

    await root("systemctl stop memfarm-coordinator.service");
    const state = await show("memfarm-coordinator.service", "ActiveState", "Result");
    assert.deepEqual(
      [state.get("ActiveState"), state.get("Result")],
      ["inactive", "success"],
      "a clean stop, exit 0",
    );
    assert.equal((await root("pgrep -u memfarm || true")).trim(), "", "nothing of the coordinator runs");
  });

  it("runs a farm from the three units: coordinator on a NATS node, an agent with a delegated cgroup, a job limited in it", async () => {
    // The coordinator on the memfarm-nats node instead of its own server: a drop-in, as an admin would.
    await root(
      "mkdir -p /etc/systemd/system/memfarm-coordinator.service.d && printf '%s\\n' '[Service]' 'ExecStart=' " +
        `'ExecStart=/opt/memfarm/bin/memfarm coordinator --data-dir /var/lib/memfarm --nats nats://127.0.0.1:${NODE_PORT} --log-format json' ` +
        "> /etc/systemd/system/memfarm-coordinator.service.d/nats-node.conf && systemctl daemon-reload",
    );
    // Its users file (the coordinator's key and the agents') is the one the coordinator renders.
    await root("install -d -m 0750 -o root -g memfarm-nats /etc/memfarm");
    await vm.run("cat > /etc/memfarm/nats.conf", { user: "root", input: singleNodeConfig() });
    const copyUsers =
      "install -m 0640 -g memfarm-nats /var/lib/memfarm/nats/authorization.conf /etc/memfarm/memfarm-users.conf";
    await root(`${copyUsers} && systemctl enable --now memfarm-nats.service`);
    await until("systemctl show memfarm-nats.service -p ActiveState", /ActiveState=active/);
    assert.equal((await show("memfarm-nats.service", "User")).get("User"), "memfarm-nats");
    await until(
      `node -e 'fetch("http://127.0.0.1:8222/jsz").then(r => r.json()).then(j => console.log("streams", j.streams, "disabled", j.disabled === true))'`,
      /disabled false/,
    );
    await root("systemctl restart memfarm-coordinator.service");
    await until(healthz, /"ok":true/, 600_000);
    await until(
      `node -e 'fetch("http://127.0.0.1:8222/jsz").then(r => r.json()).then(j => console.log("streams", j.streams))'`,
      /streams [1-9]/,
    );

    // The agent: credentials for it alone, the node told about it (reload), the shipped unit.
    await cli("agents creds arm1 --output /var/lib/memfarm-agent.nk");
    await root(`${copyUsers} && systemctl reload memfarm-nats.service`);
    await root(
      "id -u memfarm-agent >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/memfarm-agent --create-home --shell /usr/sbin/nologin memfarm-agent; " +
        "install -m 0600 -o memfarm-agent -g memfarm-agent /var/lib/memfarm-agent.nk /var/lib/memfarm-agent/agent.nk && rm /var/lib/memfarm-agent.nk",
    );
    await root(
      "mkdir -p /etc/systemd/system/memfarm-agent.service.d && printf '%s\\n' '[Service]' 'ExecStart=' " +
        `'ExecStart=/opt/memfarm/bin/memfarm agent --nats nats://127.0.0.1:${NODE_PORT} --creds /var/lib/memfarm-agent/agent.nk --name arm1 --work-dir /var/lib/memfarm-agent/work --drain-timeout 600' ` +
        "> /etc/systemd/system/memfarm-agent.service.d/nats-node.conf && systemctl daemon-reload && systemctl enable --now memfarm-agent.service",
    );
    await until(cliCommand("hosts"), /arm1\s+online/);
    const agentUnit = await show("memfarm-agent.service", "User", "Delegate", "TimeoutStopUSec");
    assert.deepEqual(
      [agentUnit.get("User"), agentUnit.get("Delegate"), agentUnit.get("TimeoutStopUSec")],
      ["memfarm-agent", "yes", "11min"],
    );
    const job = JSON.parse(
      await cli("submit bigmem-smoke --python /usr/bin/python3 --tests test_bool --follow --json || true"),
    ) as { status: string; limitKind: string; agent: string };
    assert.deepEqual([job.status, job.limitKind, job.agent], ["passed", "cgroup-v2", "arm1"]);

    // A NATS node crash: systemd restarts it; the coordinator and the agent reconnect by themselves.
    await root("kill -KILL $(systemctl show memfarm-nats.service -p MainPID --value)");
    await until("systemctl show memfarm-nats.service -p NRestarts -p ActiveState", /NRestarts=1/);
    await until(healthz, /"ok":true/);
    const again = JSON.parse(
      await cli("submit bigmem-smoke --python /usr/bin/python3 --tests test_bool --follow --json || true"),
    ) as { status: string };
    assert.equal(again.status, "passed", "a job after the NATS node came back");

    for (const unit of ["memfarm-agent", "memfarm-coordinator", "memfarm-nats"])
      await root(`systemctl stop ${unit}.service`);
    assert.equal(
      (await root("pgrep -a -u memfarm,memfarm-nats,memfarm-agent || true")).trim(),
      "",
      "no process of the farm is left",
    );
  });

  it("the agent's unit leaves ProtectControlGroups= out because it would make its delegated cgroup read-only", async () => {
    const probe = (protect: "yes" | "no") =>
      root(
        `systemd-run --quiet --wait --pipe -p Delegate=yes -p ProtectControlGroups=${protect} /bin/sh -c ` +
          `'d=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); mkdir "$d/probe" && echo writable || echo read-only' 2>&1`,
      );
    assert.match(await probe("no"), /writable/);
    assert.match(await probe("yes"), /read-only/);
  });
});
