import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, open, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "./run-command.ts";

/**
 * Checks an unpacked aarch64 payload (see arm64-payload.ts) on this x86_64 machine under qemu-user,
 * with the VM's root file system as the sysroot: the VM's own node binary loads better-sqlite3 and
 * ssh2 from the payload, nats-server runs, and the coordinator starts with its embedded nats-server
 * and answers /healthz. Each check throws, in words, when the payload would not load on the VM.
 */

/** The VM's root file system, unpacked by ../shared/tools/arm-host/build-image.sh. */
export interface Sysroot {
  rootfs: string;
  /** The VM's node (aarch64), inside rootfs. */
  node: string;
}

export interface PayloadFacts {
  node: string;
  /** Node's module ABI (process.versions.modules) the native modules were loaded by. */
  modules: string;
  sqlite: string;
  /** Whether ssh2's optional crypto binding loaded (else ssh2 uses its JavaScript fallbacks). */
  sshCrypto: boolean;
  natsServer: string;
  /** How long the coordinator took to print its Dashboard line under qemu-user. */
  coordinatorStartMs: number;
}

export const QEMU = "qemu-aarch64-static";
/** ELF e_machine of aarch64. */
const EM_AARCH64 = 183;
/**
 * The lowest nats-server whose JetStream has the consumer API that @nats-io/jetstream's consume()
 * and the coordinator's report stream use (nats-core's Feature.JS_SIMPLIFICATION).
 */
const NATS_MINIMUM = [2, 9, 4] as const;
const COORDINATOR_START_TIMEOUT_MS = 240_000;

export function sysrootAt(rootfs: string): Sysroot {
  return { rootfs, node: join(rootfs, "usr", "local", "bin", "node") };
}

/** Runs an aarch64 program with the VM's libraries; QEMU_LD_PREFIX also serves its aarch64 children. */
export function runOnArm64(
  sysroot: Sysroot,
  program: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return runCommand(QEMU, ["-L", sysroot.rootfs, program, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, QEMU_LD_PREFIX: sysroot.rootfs },
    timeoutMs: 180_000,
  });
}

/** The VM's node version, e.g. "20.20.2", read by running it. */
export async function vmNodeVersion(sysroot: Sysroot): Promise<string> {
  if (!existsSync(sysroot.node))
    throw new Error(`no node at ${sysroot.node}: is ${sysroot.rootfs} the arm-host VM's root file system?`);
  return (await runOnArm64(sysroot, sysroot.node, ["-p", "process.versions.node"])).trim();
}

/** e_machine of an ELF file, or null when the file is not ELF. */
export async function elfMachine(file: string): Promise<number | null> {
  const handle = await open(file, "r");
  try {
    const header = Buffer.alloc(20);
    const { bytesRead } = await handle.read(header, 0, 20, 0);
    if (bytesRead < 20 || header.readUInt32BE(0) !== 0x7f454c46) return null;
    return header.readUInt16LE(18);
  } finally {
    await handle.close();
  }
}

/** The native modules (*.node) and programs in bin/ under `root` that are not aarch64 (an x86-64 leftover). */
export async function foreignBinaries(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const foreign: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const inBin = entry.parentPath === join(root, "bin");
    if (!entry.name.endsWith(".node") && !inBin) continue;
    const machine = await elfMachine(path);
    if (machine === null && inBin) continue; // a script, like bin/memfarm
    if (machine !== EM_AARCH64) foreign.push(`${path} (ELF machine ${machine ?? "none"})`);
  }
  return foreign;
}

/** "nats-server: v2.9.10" -> [2, 9, 10]; throws on anything else. */
export function natsServerVersion(output: string): [number, number, number] {
  const match = /^nats-server: v(\d+)\.(\d+)\.(\d+)/.exec(output.trim());
  if (!match)
    throw new Error(`nats-server --version printed ${JSON.stringify(output.trim())}, not a version`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function atLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    const have = version[i] ?? 0;
    const need = minimum[i] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}

/**
 * Loads the native modules in the VM's node; the script runs in `root`, so require() finds its
 * node_modules. A failure comes back as the error's first line (bindings' own lists every path it tried).
 */
const LOAD_SCRIPT = [
  "try {",
  "  const Database = require('better-sqlite3');",
  "  const row = new Database(':memory:').prepare('select 1 as one, sqlite_version() as version').get();",
  "  require('ssh2');",
  "  const sshCrypto = require('ssh2/lib/protocol/crypto.js').bindingAvailable;",
  "  console.log(JSON.stringify({ arch: process.arch, node: process.versions.node,",
  "    modules: process.versions.modules, one: row.one, sqlite: row.version, sshCrypto }));",
  "} catch (error) {",
  "  console.log(JSON.stringify({ error: String(error && error.message).split('\\n')[0] }));",
  "}",
].join("\n");

export async function checkArm64Payload(
  root: string,
  sysroot: Sysroot,
  expect: { node: string; sshCrypto: boolean },
  log: (line: string) => void,
): Promise<PayloadFacts> {
  const foreign = await foreignBinaries(root);
  if (foreign.length > 0)
    throw new Error(`the payload has binaries that are not aarch64:\n${foreign.join("\n")}`);

  const loaded = JSON.parse(await runOnArm64(sysroot, sysroot.node, ["-e", LOAD_SCRIPT], { cwd: root })) as {
    arch: string;
    node: string;
    modules: string;
    one: number;
    sqlite: string;
    sshCrypto: boolean;
    error?: string;
  };
  if (loaded.error)
    throw new Error(`the VM's node cannot load the payload's native modules: ${loaded.error}`);
  if (loaded.arch !== "arm64" || loaded.one !== 1)
    throw new Error(`better-sqlite3 under the VM's node gave ${JSON.stringify(loaded)}`);
  if (loaded.node !== expect.node)
    throw new Error(`the VM's node is ${loaded.node}, but the payload was built for Node ${expect.node}`);
  if (loaded.sshCrypto !== expect.sshCrypto)
    throw new Error(
      `ssh2's crypto binding ${loaded.sshCrypto ? "loaded" : "did not load"}; expected otherwise`,
    );
  log(`arm64 node ${loaded.node} (ABI ${loaded.modules}) loads better-sqlite3 (SQLite ${loaded.sqlite})`);

  const natsOutput = await runOnArm64(sysroot, join(root, "bin", "nats-server"), ["--version"]);
  const natsVersion = natsServerVersion(natsOutput);
  if (!atLeast(natsVersion, NATS_MINIMUM))
    throw new Error(
      `nats-server ${natsVersion.join(".")} is older than ${NATS_MINIMUM.join(".")}, which memfarm's JetStream use needs`,
    );
  log(`arm64 ${natsOutput.trim()}`);

  const coordinatorStartMs = await checkCoordinatorStarts(root, sysroot, log);
  return {
    node: loaded.node,
    modules: loaded.modules,
    sqlite: loaded.sqlite,
    sshCrypto: loaded.sshCrypto,
    natsServer: natsVersion.join("."),
    coordinatorStartMs,
  };
}

/**
 * Starts the payload's coordinator as the VM would (its embedded nats-server is the payload's, found
 * on PATH), waits for its Dashboard line, asks /healthz (SQLite and NATS both up), then stops it
 * with Ctrl-C. Its profile and data go to a temporary directory, not to this machine's ~/.config.
 * The aarch64 nats-server it spawns runs through binfmt_misc, which qemu-user-static registers.
 */
async function checkCoordinatorStarts(
  root: string,
  sysroot: Sysroot,
  log: (line: string) => void,
): Promise<number> {
  const binfmt = "/proc/sys/fs/binfmt_misc/qemu-aarch64";
  if (!existsSync(binfmt) || !(await readFile(binfmt, "utf8")).startsWith("enabled"))
    throw new Error(
      `${binfmt} is not enabled: the coordinator's aarch64 nats-server child cannot run here (apt-get install qemu-user-static binfmt-support)`,
    );
  const scratch = await mkdtemp(join(tmpdir(), "memfarm-arm64-check-"));
  const dataDir = join(scratch, "data");
  const started = Date.now();
  const child = spawn(
    QEMU,
    [
      "-L",
      sysroot.rootfs,
      sysroot.node,
      join(root, "dist", "cli", "main.js"),
      "coordinator",
      "--data-dir",
      dataDir,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--nats-port",
      "0",
    ],
    {
      cwd: scratch,
      env: {
        PATH: `${join(root, "bin")}:/usr/bin:/bin`,
        HOME: scratch,
        XDG_CONFIG_HOME: join(scratch, "config"),
        QEMU_LD_PREFIX: sysroot.rootfs,
      },
      stdio: ["ignore", "pipe", "pipe"],
      shell: false,
    },
  );
  let output = "";
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)),
  );
  try {
    const dashboard = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no Dashboard line within ${COORDINATOR_START_TIMEOUT_MS} ms:\n${output.slice(-3000)}`),
          ),
        COORDINATOR_START_TIMEOUT_MS,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Dashboard:\s+(http:\/\/\S+?)\/?\s/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      void exited.then((how) => {
        clearTimeout(timer);
        reject(
          new Error(`the coordinator exited (${how}) before its Dashboard line:\n${output.slice(-3000)}`),
        );
      });
    });
    const startMs = Date.now() - started;
    const response = await fetch(`${dashboard}/healthz`);
    const health = (await response.json()) as { ok?: boolean; checks?: Record<string, unknown> };
    if (!response.ok || health.ok !== true)
      throw new Error(`the coordinator's /healthz answered ${response.status}: ${JSON.stringify(health)}`);
    log(
      `arm64 coordinator printed its Dashboard line after ${startMs} ms; /healthz ok (${Object.keys(health.checks ?? {}).join(", ")})`,
    );
    return startMs;
  } finally {
    await stop(child, exited);
    await stopLeftoverNats(join(dataDir, "nats", "nats-server.pid"), dataDir);
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Ctrl-C once (the coordinator drains and stops its nats-server), then SIGKILL if it hangs. */
async function stop(child: ReturnType<typeof spawn>, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGINT");
  const timeout = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 90_000).unref());
  if ((await Promise.race([exited, timeout])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

/** A coordinator killed outright leaves its nats-server (own process group) behind; end it by its pid file. */
async function stopLeftoverNats(pidFile: string, dataDir: string): Promise<void> {
  const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  if (cmdline.includes("nats-server") && cmdline.includes(dataDir)) process.kill(pid, "SIGKILL");
}
