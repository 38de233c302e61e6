import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ExitCode } from "../../cli/exit-codes.ts";
import { CliProcess, processesMentioning, runCli } from "../helpers/cli.ts";
import { freePort } from "../helpers/free-port.ts";

describe("memfarm up on a taken HTTP port", () => {
  let taken: Server;
  let port: number;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "memfarm-taken-port-"));
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = taken.address();
    port = typeof address === "object" && address ? address.port : 0;
  });
  after(() => {
    taken.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("fails at once with the message, the error exit code and no child left", async () => {
    const run = await runCli(["up", "--port", String(port), "--data-dir", dataDir], {}, 30_000);
    assert.equal(run.code, ExitCode.error, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use; pick another with --port`),
    );
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.deepEqual(processesMentioning(dataDir), []);
  });
});

describe("a second farm on the same data dir", () => {
  let dataDir: string;
  let first: CliProcess;
  let firstUrl: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "memfarm-locked-dir-"));
    first = new CliProcess(["up", "--port", "0", "--data-dir", dataDir]);
    firstUrl = (await first.waitFor(/Dashboard: +(http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1] ?? "";
  });
  after(async () => {
    await first.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses, naming the owner's pid and URL, and leaves the first farm's NATS running", async () => {
    const natsBefore = processesMentioning(join(dataDir, "nats"));
    assert.ok(natsBefore.length > 0, "the first farm runs a nats-server in its data dir");
    const second = await runCli(["up", "--port", "0", "--data-dir", dataDir], {}, 30_000);
    assert.equal(second.code, ExitCode.error, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`in use by a farm already running \\(pid ${first.child.pid}, ${firstUrl}\\)`),
    );
    assert.match(second.stderr, /stop it first, or give another --data-dir/);
    assert.deepEqual(processesMentioning(join(dataDir, "nats")), natsBefore);
    assert.equal((await fetch(`${firstUrl}/`)).status, 200);
  });
});

describe("a stale data dir lock", () => {
  it("is taken over with a line saying so", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "memfarm-stale-lock-"));
    try {
      // A pid far above pid_max's default is never a live process.
      writeFileSync(
        join(dataDir, "coordinator.lock"),
        JSON.stringify({ pid: 2 ** 30, url: "http://127.0.0.1:1" }),
      );
      const farm = new CliProcess(["up", "--port", "0", "--data-dir", dataDir]);
      try {
        await farm.waitFor(/Dashboard: +http/, 60_000);
        assert.match(farm.output, new RegExp(`taking over .*coordinator\\.lock, left by pid ${2 ** 30}`));
      } finally {
        await farm.stop();
      }
      assert.deepEqual(processesMentioning(dataDir), []);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("Ctrl-C while a farm is starting", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "memfarm-early-signal-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("stops it cleanly once started, leaving no nats-server behind", async () => {
    const coordinator = new CliProcess(["coordinator", "--port", "0", "--data-dir", dataDir]);
    // The embedded nats-server is up long before the coordinator is ready: signal in between.
    const natsServers = () =>
      processesMentioning(dataDir).filter((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("nats-server"),
      );
    for (let tries = 0; natsServers().length === 0; tries++) {
      assert.ok(tries < 6000 && coordinator.child.exitCode === null, coordinator.output);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const early = !coordinator.output.includes("Dashboard:");
    coordinator.child.kill("SIGINT");
    assert.equal(await coordinator.exited, 0, coordinator.output);
    if (early) assert.match(coordinator.output, /SIGINT: stopping as soon as the start is done/);
    assert.deepEqual(processesMentioning(dataDir), [], "no child left");
  });
});

describe("HTTP requests while the coordinator starts", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-starting-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("answers 503 starting (never a connection left hanging), then serves once it has started", async () => {
    // A nats-server that takes 3 s to come up holds the start after the port is bound.
    const shims = join(dir, "bin");
    mkdirSync(shims);
    const real = execFileSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" }).trim();
    writeFileSync(join(shims, "nats-server"), `#!/bin/sh\nsleep 3\nexec ${real} "$@"\n`, { mode: 0o755 });
    const port = await freePort();
    const coordinator = new CliProcess(
      ["coordinator", "--port", String(port), "--data-dir", join(dir, "data")],
      { PATH: `${shims}:${process.env.PATH}` },
    );
    try {
      const statuses: number[] = [];
      for (let tries = 0; !statuses.includes(200); tries++) {
        assert.ok(tries < 600 && coordinator.child.exitCode === null, coordinator.output);
        const response = await fetch(`http://127.0.0.1:${port}/healthz`, {
          signal: AbortSignal.timeout(2000),
        }).catch(() => null);
        if (response) {
          statuses.push(response.status);
          if (response.status === 503) {
            assert.equal(((await response.json()) as { error: { code: string } }).error.code, "starting");
            assert.equal(response.headers.get("retry-after"), "2");
          } else await response.body?.cancel();
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(statuses.includes(503), `a request during the start was answered 503 (${statuses})`);
    } finally {
      coordinator.child.kill("SIGINT");
      await coordinator.exited;
    }
  });
});

describe("a nats-server that fails to start", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-nats-fails-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A directory with a nats-server shim of `script` on PATH, and a data dir of its own. */
  function withShim(name: string, script: string) {
    const shims = join(dir, name, "bin");
    mkdirSync(shims, { recursive: true });
    writeFileSync(join(shims, "nats-server"), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    return { env: { PATH: `${shims}:${process.env.PATH}` }, dataDir: join(dir, name, "data") };
  }

  it("that exits 1 makes up fail at once with its words, the error exit code and no child left", async () => {
    const { env, dataDir } = withShim("exits", 'echo "nats-server: cannot open the store" >&2\nexit 1');
    const run = await runCli(["up", "--port", "0", "--data-dir", dataDir], env, 30_000);
    assert.equal(run.code, ExitCode.error, run.stderr);
    assert.match(run.stderr, /nats-server exited with code 1 at start: nats-server: cannot open the store/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.doesNotMatch(run.stdout, /memfarm is running/);
    assert.deepEqual(processesMentioning(dataDir), []);
  });

  it("that never listens (and ignores SIGTERM) makes up give up with a message and kill it", async () => {
    // It runs with the config file in its arguments, as nats-server would: a leftover is found by that.
    const { env, dataDir } = withShim(
      "hangs",
      `exec ${process.execPath} -e 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)' nats-server "$@"`,
    );
    const run = await runCli(["up", "--port", "0", "--data-dir", dataDir], env, 60_000);
    assert.equal(run.code, ExitCode.error, run.stderr);
    assert.match(run.stderr, /nats-server did not report its port within \d+ ms/);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
    assert.deepEqual(processesMentioning(dataDir), [], "the hung server was killed, not left behind");
  });
});

describe("memfarm up with bad flags or a bad config file", () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-bad-start-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const cases: [string, string[], RegExp][] = [
    ["an unknown flag", ["--bogus"], /Unknown option '--bogus'/],
    ["a bad port", ["--port", "abc"], /--port must be a port number from 0 to 65535, not "abc"/],
    ["a bad memory size", ["--memory", "lots"], /--memory: "lots" is not a size/],
    ["a bad agent name", ["--name", "bad/name"], /--name: "bad\/name" is not an agent name/],
    ["a bad drain timeout", ["--drain-timeout", "soon"], /--drain-timeout: "soon" is not a duration/],
    ["a missing config file", ["--config", join(dir, "missing.toml")], /missing\.toml: cannot read it/],
    [
      "a config file that is not TOML",
      ["--config", config("broken.toml", "coordinator = [\n")],
      /broken\.toml is not valid TOML/,
    ],
    [
      "a config file with a mistyped key",
      ["--config", config("typo.toml", "[coordinator]\nprot = 8080\n")],
      /coordinator\.prot is not a known key; did you mean coordinator\.port\?/,
    ],
    [
      "a config file with a bad value",
      ["--config", config("value.toml", '[agent]\nmemory = "lots"\n')],
      /value\.toml: agent\.memory: "lots" is not a size/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what} with the usage exit code, before anything starts`, async () => {
      const dataDir = join(dir, `data-${cases.findIndex(([name]) => name === what)}`);
      const run = await runCli(["up", "--port", "0", "--data-dir", dataDir, ...args], {}, 30_000);
      assert.equal(run.code, ExitCode.usage, run.stderr);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /\n\s+at /);
      assert.deepEqual(processesMentioning(dataDir), [], "no nats-server or agent left");
    });
  }
});
