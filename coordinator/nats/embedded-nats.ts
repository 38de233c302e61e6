import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { MemfarmError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import { isLive, readProcStat } from "../../protocol/proc-stat.ts";

export interface EmbeddedNatsOptions {
  /** Directory for JetStream's store and the ports file. */
  dataDir: string;
  /** Client port; 0 lets nats-server pick a free one. */
  port: number;
  host?: string;
  /** The `authorization { users = [...] }` include (NatsAuthority writes it); it must exist at start. */
  authorizationFile: string;
  binary?: string;
  log: Logger;
}

const READY_TIMEOUT_MS = 10_000;
const PID_FILE = "nats-server.pid";
const RELOAD_TIMEOUT_MS = 10_000;
/** What nats-server logs when a reload (SIGHUP) is done, or why it failed (server/reload.go). */
const RELOADED = /Reloaded server configuration/;
const RELOAD_FAILED = /Failed to reload server configuration: ([^\n]*)/;

/**
 * The server's config file: listen address, JetStream store, ports file, and the authorization
 * include. nats-server resolves an include relative to the file that names it.
 */
export function renderServerConfig(options: {
  host: string;
  port: number;
  storeDir: string;
  portsDir: string;
  configFile: string;
  authorizationFile: string;
}): string {
  const quote = (text: string) => JSON.stringify(text);
  return [
    "# Written by memfarm at each start; edits are overwritten.",
    `host: ${quote(options.host)}`,
    `port: ${options.port === 0 ? -1 : options.port}`,
    `jetstream { store_dir: ${quote(options.storeDir)} }`,
    `ports_file_dir: ${quote(options.portsDir)}`,
    `pid_file: ${quote(join(dirname(options.configFile), PID_FILE))}`,
    `include ${quote(relative(dirname(options.configFile), options.authorizationFile))}`,
    "",
  ].join("\n");
}

/**
 * A nats-server child process with JetStream on, for a farm on one machine.
 * Lifecycle: start() resolves once the server listens and its URL is known;
 * reload() makes it read its config again (SIGHUP), which is how revoked credentials take effect;
 * stop() sends SIGTERM, then SIGKILL after a grace period, and waits for the exit.
 */
export class EmbeddedNats {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private clientUrl: string | null = null;

  constructor(private readonly options: EmbeddedNatsOptions) {}

  get url(): string {
    if (!this.clientUrl) throw new Error("the embedded nats-server has not started");
    return this.clientUrl;
  }

  async start(): Promise<string> {
    const {
      dataDir,
      port,
      host = "127.0.0.1",
      binary = "nats-server",
      log,
      authorizationFile,
    } = this.options;
    const storeDir = join(dataDir, "jetstream");
    const portsDir = join(dataDir, "ports");
    const configFile = join(dataDir, "nats-server.conf");
    await mkdir(storeDir, { recursive: true });
    await mkdir(portsDir, { recursive: true });
    await stopLeftoverServer(join(dataDir, PID_FILE), configFile, log);
    await writeFile(
      configFile,
      renderServerConfig({ host, port, storeDir, portsDir, configFile, authorizationFile }),
      { mode: 0o600 },
    );
    const args = ["-c", configFile];
    // Its own process group: a Ctrl-C in the terminal reaches only memfarm, which stops the server
    // last, after the agent has delivered its final results through it.
    const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"], shell: false, detached: true });
    this.child = child;
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const failed = new Promise<never>((_, reject) => {
      child.once("error", (error) =>
        reject(
          new MemfarmError(
            "nats_missing",
            `could not start ${binary}: ${error.message}. Install it (Debian/Ubuntu: apt-get install nats-server) or pass --nats URL`,
          ),
        ),
      );
      child.once("exit", (code) =>
        reject(
          new MemfarmError("nats_exited", `nats-server exited with code ${code} at start: ${stderr.trim()}`),
        ),
      );
    });
    failed.catch(() => undefined);
    const ready = this.waitForPortsFile(portsDir, child.pid ?? 0);
    this.clientUrl = await Promise.race([ready, failed]);
    log.info("embedded nats-server started", { url: this.clientUrl, pid: child.pid, store: storeDir });
    return this.clientUrl;
  }

  /** Makes the server read its config again; resolves once it has applied it. */
  async reload(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.stderr) {
      throw new MemfarmError("nats_not_running", "the embedded nats-server is not running; cannot reload it");
    }
    const stderr = child.stderr;
    let seen = "";
    let onData: (chunk: Buffer) => void = () => {};
    let timer: NodeJS.Timeout | undefined;
    const applied = new Promise<void>((resolve, reject) => {
      onData = (chunk) => {
        seen = (seen + chunk.toString()).slice(-8000);
        if (RELOADED.test(seen)) resolve();
        const failure = RELOAD_FAILED.exec(seen);
        if (failure) {
          reject(
            new MemfarmError("nats_reload_failed", `nats-server did not reload its config: ${failure[1]}`),
          );
        }
      };
      timer = setTimeout(
        () =>
          reject(
            new MemfarmError(
              "nats_reload_failed",
              `nats-server did not reload within ${RELOAD_TIMEOUT_MS} ms`,
            ),
          ),
        RELOAD_TIMEOUT_MS,
      );
    });
    stderr.on("data", onData);
    try {
      child.kill("SIGHUP");
      await applied;
    } finally {
      stderr.off("data", onData);
      clearTimeout(timer);
    }
  }

  /** Kills the server at once (a forced exit must not leave it behind). */
  kill(): void {
    this.child?.kill("SIGKILL");
  }

  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** nats-server writes `<binary>_<pid>.ports` with its client URLs once it listens. */
  private async waitForPortsFile(dir: string, pid: number): Promise<string> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const name = (await readdir(dir)).find((file) => file.endsWith(`_${pid}.ports`));
      if (name) {
        try {
          const ports = JSON.parse(await readFile(join(dir, name), "utf8")) as { nats?: string[] };
          const url = ports.nats?.[0];
          if (url) return url;
        } catch {
          // Written but not complete yet.
        }
      }
      await sleep(20);
    }
    throw new MemfarmError(
      "nats_not_ready",
      `nats-server did not report its port within ${READY_TIMEOUT_MS} ms`,
    );
  }
}

/**
 * A coordinator killed outright (SIGKILL, OOM) leaves its nats-server running in its own process
 * group, holding the JetStream store. The next start stops it first, if the pid in the pid file
 * is still a nats-server started with this data dir's config (not a reused pid).
 */
async function stopLeftoverServer(pidFile: string, configFile: string, log: Logger): Promise<void> {
  const pid = Number.parseInt(await readFile(pidFile, "utf8").catch(() => ""), 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  if (!cmdline.includes("nats-server") || !cmdline.includes(configFile)) return;
  log.warn("stopping a nats-server left running by an earlier coordinator", { pid });
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  for (let tries = 0; tries < 100; tries += 1) {
    if (!isLive(readProcStat(pid))) return;
    await sleep(20);
  }
}
