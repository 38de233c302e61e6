import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isFinalStatus } from "../protocol/job-status.ts";
import type { AgentResource, HostResource, JobResource } from "../protocol/resources.ts";
import { CliProcess, runCli } from "../test/helpers/cli.ts";
import { makeJobsDir } from "../test/helpers/farm.ts";
import { freePort } from "../test/helpers/free-port.ts";
import { ArmHostVm } from "./arm-host-vm.ts";

/**
 * Opt-in (`npm run test:arm-host`, about 15 minutes): the agent on a real aarch64 host with systemd
 * as PID 1 and cgroup v2, the Debian 12 VM of ../shared/tools/arm-host/ under qemu. A coordinator on
 * this machine adds the VM over SSH as an admin would; then jobs on it check what must hold on the
 * target: its own cgroup v2 child per job (memory.max, memory.oom.group, memory.peak), oom that
 * leaves the agent and sshd up, cancel that leaves nothing behind, the job peak against the guest
 * kernel's, and upgrade and remove that leave the guest clean. Not part of `npm test`: the VM takes
 * an hour to build once and minutes to boot.
 */

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const HOST = "arm1";
/** The same VM added again as root: its agent then runs as the system user memfarm-agent. */
const SYSTEM_HOST = "arm1-system";
/**
 * Where the guest checks' test files live on the guest (the `guest` suite's --testdir): outside
 * any home, so that both the farm user's agent and memfarm-agent (ProtectHome=read-only, and
 * Debian 12 makes homes 0700) can read them.
 */
const GUEST_TESTS = "/srv/memfarm-checks";

/** Small regrtest test files for the guest: each does one thing the checks look at. */
const GUEST_TEST_FILES: Record<string, string> = {
  // Holds 600 MiB for a while, so the kernel's memory.peak can be read while the job still runs.
  "test_hold.py": [
    "import time, unittest",
    "class Hold(unittest.TestCase):",
    "    def test_hold(self):",
    "        block = b'x' * (600 * 1024 * 1024)",
    "        print('holding', len(block), flush=True)",
    "        time.sleep(6)",
    "",
  ].join("\n"),
  // Allocates until the job's cgroup stops it.
  "test_hog.py": [
    "import unittest",
    "class Hog(unittest.TestCase):",
    "    def test_hog(self):",
    "        blocks = []",
    "        for n in range(64):",
    "            blocks.append(b'x' * (64 * 1024 * 1024))",
    "            print('allocated', (n + 1) * 64, 'MiB', flush=True)",
    "",
  ].join("\n"),
  // Its memory is in a child that has exited by the time the test ends: only a cgroup counts it.
  "test_child.py": [
    "import subprocess, sys, unittest",
    "class Child(unittest.TestCase):",
    "    def test_child(self):",
    "        code = 'import time; block = bytes(range(256)) * (1600 * 1024); time.sleep(1)'",
    "        subprocess.run([sys.executable, '-c', code], check=True)",
    "",
  ].join("\n"),
  // Sleeps with a child process, to be canceled: neither may survive the cancel.
  "test_linger.py": [
    "import subprocess, sys, time, unittest",
    "class Linger(unittest.TestCase):",
    "    def test_linger(self):",
    "        child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(900)  # memfarm-linger'])",
    "        for second in range(900):",
    "            print('lingering', second, child.pid, flush=True)",
    "            time.sleep(1)",
    "",
  ].join("\n"),
};

/**
 * Prints one line per job cgroup of the agent's unit, four times a second (a fixed script; run as
 * root). "memfarm-agen[t]" globs the same paths without the text "memfarm-agent" in its own command
 * line, so the checks' pgrep does not find the monitor; the "tick" line makes it die of SIGPIPE as
 * soon as its SSH session is gone.
 */
const CGROUP_MONITOR = [
  "while :; do",
  "  for d in /sys/fs/cgroup/system.slice/memfarm-agen[t].service/attempt-* \\",
  "           /sys/fs/cgroup/user.slice/user-*.slice/user@*.service/memfarm-agen[t].service/attempt-* \\",
  "           /sys/fs/cgroup/user.slice/user-*.slice/user@*.service/*.slice/memfarm-agen[t].service/attempt-*; do",
  '    [ -d "$d" ] || continue',
  '    echo "$(basename "$d") max=$(cat "$d/memory.max") oom_group=$(cat "$d/memory.oom.group") peak=$(cat "$d/memory.peak") procs=$(cat "$d/cgroup.procs" "$d"/*/cgroup.procs 2>/dev/null | wc -l) path=$d"',
  "  done",
  "  echo tick",
  "  sleep 0.25",
  "done",
].join("\n");

interface CgroupReading {
  max: string;
  oomGroup: string;
  peak: number;
  procs: number;
  path: string;
}

describe("an aarch64 host with systemd and cgroup v2 (the arm-host VM)", { timeout: 3_600_000 }, () => {
  const vm = new ArmHostVm();
  let coordinator: CliProcess;
  let dataDir = "";
  let url = "";
  let token = "";
  let monitor: ChildProcess | null = null;
  /** The last reading of each job cgroup, by attempt id ("12-1"). */
  const cgroups = new Map<string, CgroupReading>();

  const env = () => ({ MEMFARM_URL: url, MEMFARM_TOKEN: token });
  const api = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${url}/api/v1${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the checks read the API's JSON by its documented shape
    return { status: response.status, body: (await response.json()) as any };
  };
  const submit = async (body: Record<string, unknown>): Promise<JobResource> => {
    const response = await api("/jobs", { body });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body as JobResource;
  };
  const waitFor = async (id: number, done: (job: JobResource) => boolean, timeoutMs = 1_200_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = (await api(`/jobs/${id}`)).body as JobResource;
      if (done(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  const finished = (job: JobResource) => isFinalStatus(job.status);
  const agentOf = async (name = HOST) =>
    ((await api("/agents")).body.agents as AgentResource[]).find((agent) => agent.name === name);
  const logOf = async (id: number) =>
    await (
      await fetch(`${url}/api/v1/jobs/${id}/log?format=text`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).text();

  before(async () => {
    const missing = vm.missing();
    if (missing) throw new Error(missing);
    const started = Date.now();
    await vm.shutdown(); // an earlier run's VM, if one was left
    await vm.boot((line) => console.log(`# ${line}`));
    console.log(`# VM booted in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const natsPort = await freePort();
    const jobsDir = makeJobsDir({
      guest: {
        description: "checks on the aarch64 VM: regrtest on small test files written to the guest",
        args: ["--testdir", GUEST_TESTS, "-v"],
        workers: 1,
        memlimit: "2G",
        reservation: { perWorker: "memlimit", overhead: "256M" },
        timeoutSeconds: 1200,
        noOutputTimeoutSeconds: 600,
      },
      "guest-parallel": {
        description: "the guest's test files under -j2, each in a worker of its own",
        args: ["--testdir", GUEST_TESTS],
        workers: 2,
        reservation: { perWorker: "1G", overhead: "256M" },
        timeoutSeconds: 1200,
        noOutputTimeoutSeconds: 600,
      },
    });
    dataDir = join(jobsDir, "coordinator");
    coordinator = new CliProcess([
      "coordinator",
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--jobs-dir",
      jobsDir,
      "--nats-port",
      String(natsPort),
      "--advertise-nats",
      `nats://10.0.2.2:${natsPort}`,
    ]);
    url = (await coordinator.waitFor(/Dashboard:\s+(http:\/\/\S+?)\/\n/, 120_000))[1] as string;
    token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    await vm.run(`install -d -m 0755 ${GUEST_TESTS}`, { user: "root" });
    for (const [name, text] of Object.entries(GUEST_TEST_FILES))
      await vm.run(`cat > ${GUEST_TESTS}/${name}`, { input: text, user: "root" });
    startMonitor();
  });

  /** Follows the agent unit's job cgroups into `cgroups` (again after a host is removed). */
  const startMonitor = () => {
    monitor?.kill();
    monitor = vm.watch(CGROUP_MONITOR, (line) => {
      const match = /^attempt-(\S+) max=(\S+) oom_group=(\S+) peak=(\d+) procs=(\d+) path=(\S+)$/.exec(line);
      if (!match) return;
      cgroups.set(match[1] as string, {
        max: match[2] as string,
        oomGroup: match[3] as string,
        peak: Number(match[4]),
        procs: Number(match[5]),
        path: match[6] as string,
      });
    });
  };

  after(async () => {
    monitor?.kill();
    await coordinator?.stop();
    if (process.env.KEEP_VM !== "1") await vm.shutdown();
    if (dataDir) rmSync(join(dataDir, ".."), { recursive: true, force: true });
  });

  it("adds the VM over SSH: aarch64, cgroup v2 and systemd detected, the agent a delegated systemd unit", async () => {
    const added = await runCli(
      [
        "hosts",
        "add",
        vm.target,
        "--identity",
        vm.identityFile,
        "--name",
        HOST,
        "--fingerprint",
        vm.hostKeyFingerprint(),
      ],
      env(),
      900_000,
    );
    console.log(added.stdout.replace(/^/gm, "# "));
    assert.equal(added.code, 0, added.stdout + added.stderr);
    const host = (await api(`/hosts/${HOST}`)).body as HostResource;
    const facts = host.facts as { arch: string; cgroup: string; cgroupMemory: boolean; systemd: boolean };
    assert.deepEqual(
      [facts.arch, facts.cgroup, facts.cgroupMemory, facts.systemd],
      ["aarch64", "v2", true, true],
    );
    const agent = await agentOf();
    assert.deepEqual([agent?.state, agent?.arch, agent?.labels.arch], ["online", "aarch64", "aarch64"]);
    const unit = await vm.run(
      "XDG_RUNTIME_DIR=/run/user/$(id -u) systemctl --user show memfarm-agent.service -p ActiveState -p Delegate -p KillMode",
    );
    assert.match(unit, /ActiveState=active/);
    assert.match(unit, /Delegate=yes/);
  });

  it("runs bigmem-smoke with --label arch=aarch64 in its own cgroup v2 child", async () => {
    const queued = await submit({
      suite: "bigmem-smoke",
      python: "/usr/bin/python3",
      tests: ["test_bool"],
      labels: { arch: "aarch64" },
    });
    const job = await waitFor(queued.id, finished);
    assert.equal(job.status, "passed", `${job.error}\n${await logOf(job.id)}`);
    assert.equal(job.agent, HOST);
    assert.equal(job.limitKind, "cgroup-v2");
    const attempt = job.attempts[0]?.id as string;
    const cgroup = cgroups.get(attempt);
    assert.ok(cgroup, `the job's cgroup attempt-${attempt} was seen under the agent's unit`);
    assert.equal(Number(cgroup.max), job.limitBytes, "memory.max is the job's limit");
    assert.equal(cgroup.oomGroup, "1", "memory.oom.group is on");
    assert.ok(cgroup.peak > 0, "memory.peak is read");
  });

  it("reports the job's peak within 1% of the guest kernel's memory.peak", async () => {
    const queued = await submit({ suite: "guest", python: "/usr/bin/python3", tests: ["test_hold"] });
    const job = await waitFor(queued.id, finished);
    assert.equal(job.status, "passed", `${job.error}\n${await logOf(job.id)}`);
    const kernel = cgroups.get(job.attempts[0]?.id as string)?.peak ?? 0;
    const reported = job.peakRssBytes ?? 0;
    console.log(
      `# job peak ${(reported / MiB).toFixed(1)} MiB, guest memory.peak ${(kernel / MiB).toFixed(1)} MiB`,
    );
    assert.ok(kernel > 600 * MiB, `the kernel saw the 600 MiB block (${kernel})`);
    assert.ok(
      Math.abs(reported - kernel) <= kernel * 0.01,
      `reported ${reported} against memory.peak ${kernel}`,
    );
    // Per test: v2's memory.peak can be reset per test only from Linux 6.12; before, the processes' marks.
    const [major = 0, minor = 0] = (await vm.run("uname -r")).trim().split(/[.-]/).map(Number);
    const resettable = major > 6 || (major === 6 && minor >= 12);
    const records = (await api(`/jobs/${job.id}/tests`)).body.tests as {
      name: string;
      kind: string;
      peakRssBytes: number | null;
      peakMeasuredBy: string | null;
    }[];
    const file = records.find((record) => record.kind === "file" && record.name === "test_hold");
    assert.ok(file, JSON.stringify(records));
    assert.equal(file.peakMeasuredBy, resettable ? "cgroup" : "process-tree", JSON.stringify(file));
    assert.ok(
      (file.peakRssBytes ?? 0) > 600 * MiB,
      `test_hold's own peak holds its block: ${JSON.stringify(file)}`,
    );
  });

  it("gives each -j worker a cgroup of its own: a test file's peak counts its child that exited", async () => {
    const queued = await submit({
      suite: "guest-parallel",
      python: "/usr/bin/python3",
      tests: ["test_child", "test_hold"],
    });
    const job = await waitFor(queued.id, finished);
    assert.equal(job.status, "passed", `${job.error}\n${await logOf(job.id)}`);
    const records = (await api(`/jobs/${job.id}/tests`)).body.tests as {
      name: string;
      peakRssBytes: number | null;
      peakMeasuredBy: string | null;
    }[];
    const byName = new Map(records.map((record) => [record.name, record]));
    for (const [name, atLeast] of [
      ["test_child", 400 * MiB],
      ["test_hold", 600 * MiB],
    ] as const) {
      const record = byName.get(name);
      console.log(
        `# ${name}: ${((record?.peakRssBytes ?? 0) / MiB).toFixed(1)} MiB (${record?.peakMeasuredBy})`,
      );
      assert.equal(record?.peakMeasuredBy, "worker-cgroup", JSON.stringify(records));
      assert.ok((record?.peakRssBytes ?? 0) >= atLeast, `${name}: ${JSON.stringify(record)}`);
    }
    const left = await vm.run("find /sys/fs/cgroup -type d -name 'worker-*' | head", { user: "root" });
    assert.equal(left.trim(), "", "no worker group is left");
  });

  it("ends a job that allocates past its limit oom, and the agent and sshd stay up", async () => {
    const queued = await submit({ suite: "guest", python: "/usr/bin/python3", tests: ["test_hog"] });
    const job = await waitFor(queued.id, finished);
    assert.equal(job.status, "oom", `${job.error}\n${await logOf(job.id)}`);
    assert.ok((job.limitBytes ?? 0) >= 2 * GiB && (job.limitBytes ?? 0) < 3 * GiB);
    assert.equal((await vm.run("echo up")).trim(), "up", "sshd answers");
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a heartbeat or two after the kill
    assert.equal((await agentOf())?.state, "online", "the agent is still in the farm");
  });

  it("cancels a job and leaves nothing in its cgroup", async () => {
    const queued = await submit({ suite: "guest", python: "/usr/bin/python3", tests: ["test_linger"] });
    await waitFor(queued.id, (job) => job.status === "running" || finished(job));
    for (let tries = 0; ; tries += 1) {
      if (/lingering 2 /.test(await logOf(queued.id))) break;
      assert.ok(tries < 600, "the lingering test started");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const attempt = ((await api(`/jobs/${queued.id}`)).body as JobResource).attempts[0]?.id as string;
    const cgroup = cgroups.get(attempt);
    assert.match(cgroup?.path ?? "", /^\/sys\/fs\/cgroup\/[\w.@/-]+$/, "a cgroup path, safe in a command");
    assert.ok(
      cgroup && cgroup.procs >= 2,
      `the test and its child are in the job's cgroup (${cgroup?.procs})`,
    );
    assert.equal((await api(`/jobs/${queued.id}/cancel`, { body: {} })).status, 200);
    const job = await waitFor(queued.id, finished, 300_000);
    assert.equal(job.status, "canceled");
    const left = await vm.run(
      `if [ -d '${cgroup.path}' ]; then cat '${cgroup.path}/cgroup.procs' '${cgroup.path}'/*/cgroup.procs 2>/dev/null; fi; pgrep -f '[m]emfarm-linger' || true`,
      { user: "root" },
    );
    assert.equal(left.trim(), "", "no process of the job is left, in its cgroup or anywhere");
  });

  it("upgrades the host and removes it, leaving the guest clean", async () => {
    const upgraded = await runCli(["hosts", "upgrade", HOST, "--identity", vm.identityFile], env(), 900_000);
    assert.equal(upgraded.code, 0, upgraded.stdout + upgraded.stderr);
    assert.equal((await agentOf())?.state, "online", "undrained after the upgrade");
    const removed = await runCli(["hosts", "remove", HOST, "--identity", vm.identityFile], env(), 900_000);
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    monitor?.kill();
    const files = await vm.run(
      "ls -d /home/farm/.memfarm /home/farm/.config/systemd/user/memfarm-agent.service /etc/systemd/system/memfarm-agent.service 2>/dev/null; true",
      { user: "root" },
    );
    assert.equal(files.trim(), "", "no agent files or unit are left");
    const cgroupsLeft = await vm.run("find /sys/fs/cgroup -type d -name 'memfarm-agen[t]*'", {
      user: "root",
    });
    assert.equal(cgroupsLeft.trim(), "", "no cgroup of the agent's unit is left");
    // [m]: the pattern does not match this very command's shell.
    const processes = await vm.run("pgrep -a -f '[m]emfarm-agent' || true", { user: "root" });
    assert.equal(processes.trim(), "", "no agent process is left");
    assert.equal(((await api(`/hosts/${HOST}`)).body as HostResource).status, "removed");
  });

  it("adds the VM as root: the agent runs as the system user memfarm-agent in a hardened system unit", async () => {
    startMonitor();
    const added = await runCli(
      [
        "hosts",
        "add",
        vm.rootTarget,
        "--identity",
        vm.identityFile,
        "--name",
        SYSTEM_HOST,
        "--fingerprint",
        vm.hostKeyFingerprint(),
        "--memory",
        "4G",
        "--drain-timeout",
        "2m",
      ],
      env(),
      900_000,
    );
    console.log(added.stdout.replace(/^/gm, "# "));
    assert.equal(added.code, 0, added.stdout + added.stderr);
    assert.equal(((await api(`/hosts/${SYSTEM_HOST}`)).body as HostResource).startMode, "systemd-system");
    const agent = await agentOf(SYSTEM_HOST);
    assert.equal(agent?.state, "online");
    assert.equal(agent?.memoryBytes, 4 * GiB, "--memory reached the installed agent");
    const unit = await vm.run(
      "systemctl show memfarm-agent.service -p ActiveState -p User -p Delegate -p TimeoutStopUSec -p ProtectSystem -p NoNewPrivileges -p ProtectControlGroups -p ReadWritePaths -p MainPID",
      { user: "root" },
    );
    console.log(unit.replace(/^/gm, "# "));
    for (const line of [
      "ActiveState=active",
      "User=memfarm-agent",
      "Delegate=yes",
      // --drain-timeout 2m plus a minute: systemd waits for the drain before it kills.
      "TimeoutStopUSec=3min",
      "ProtectSystem=strict",
      "NoNewPrivileges=yes",
      "ProtectControlGroups=no",
      "ReadWritePaths=/var/lib/memfarm-agent",
    ])
      assert.ok(unit.split("\n").includes(line), `${line} in\n${unit}`);
    const owner = await vm.run(
      "ps -o user= -p $(systemctl show memfarm-agent.service -p MainPID --value); stat -c '%U %a' /var/lib/memfarm-agent/credentials.nk",
      { user: "root" },
    );
    assert.deepEqual(owner.trim().split("\n"), ["memfarm-agent", "memfarm-agent 600"]);
  });

  it("limits the system agent's jobs in cgroups under its unit: passed within the limit, oom past it", async () => {
    const passed = await waitFor(
      (await submit({ suite: "guest", python: "/usr/bin/python3", tests: ["test_hold"] })).id,
      finished,
    );
    assert.equal(passed.status, "passed", `${passed.error}\n${await logOf(passed.id)}`);
    assert.deepEqual([passed.agent, passed.limitKind], [SYSTEM_HOST, "cgroup-v2"]);
    const cgroup = cgroups.get(passed.attempts[0]?.id as string);
    assert.match(cgroup?.path ?? "", /^\/sys\/fs\/cgroup\/system\.slice\/memfarm-agent\.service\/attempt-/);
    assert.equal(Number(cgroup?.max), passed.limitBytes, "memory.max is the job's limit");
    const hog = await waitFor(
      (await submit({ suite: "guest", python: "/usr/bin/python3", tests: ["test_hog"] })).id,
      finished,
    );
    assert.equal(hog.status, "oom", `${hog.error}\n${await logOf(hog.id)}`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal((await agentOf(SYSTEM_HOST))?.state, "online", "the agent is still in the farm");
  });

  it("removes the system agent: no unit, no memfarm-agent user, no files, no process", async () => {
    const removed = await runCli(
      ["hosts", "remove", SYSTEM_HOST, "--identity", vm.identityFile],
      env(),
      900_000,
    );
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    monitor?.kill();
    const left = await vm.run(
      "ls -d /var/lib/memfarm-agent /etc/systemd/system/memfarm-agent.service /root/.memfarm 2>/dev/null; getent passwd memfarm-agent; pgrep -a -u memfarm-agent 2>/dev/null; true",
      { user: "root" },
    );
    assert.equal(left.trim(), "", "nothing of the system agent is left");
  });
});
