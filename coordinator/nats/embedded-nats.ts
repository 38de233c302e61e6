import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { coerceError, MemfarmError } from "../../protocol/errors.ts";
import { Lifecycle } from "../../protocol/lifecycle.ts";
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

/** What the supervisor of the embedded nats-server is doing. */
export type EmbeddedNatsState = "created" | "running" | "restarting" | "stopped";

/** The first restart after an unexpected exit comes after this; each one after waits twice as long. */
const FIRST_RESTART_DELAY_MS = 250;
const MAX_RESTART_DELAY_MS = 15_000;
/** A server that ran this long before it died starts the backoff over. */
const STABLE_AFTER_MS = 60_000;
const KEPT_PORT_FILE = "port";

/**
 * A nats-server child process with JetStream on, for a farm on one machine, and its supervisor.
 * Lifecycle: start() resolves once the server listens and its URL is known; if it exits on its
 * own later (killed, crashed), it is started again on the same port and store, with backoff,
 * until stop(). reload() makes it read its config again (SIGHUP), which is how revoked
 * credentials take effect; stop() sends SIGTERM, then SIGKILL after a grace period, and waits.
 *
 * Its port is kept for the data dir (`DIR/port`): chosen once (or given with --nats-port) and used
 * at every start after, so an agent joined with the printed URL finds the farm again after a
 * coordinator restart. If another process holds the kept port, the server starts on a new one and
 * says so; a --nats-port that is taken is an error.
 */
export class EmbeddedNats {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private clientUrl: string | null = null;
  private readonly lifecycle: Lifecycle<EmbeddedNatsState>;
  private restarts = 0;
  private lastExit = "";
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: EmbeddedNatsOptions) {
    this.lifecycle = new Lifecycle<EmbeddedNatsState>("created", "embedded nats-server", options.log);
  }

  get url(): string {
    if (!this.clientUrl) throw new Error("the embedded nats-server has not started");
    return this.clientUrl;
  }

  get state(): EmbeddedNatsState {
    return this.lifecycle.state;
  }

  /** For /healthz: running or not, and how often it had to be started again. */
  get health(): { ok: boolean; detail: string } {
    const restarted =
      this.restarts === 0 ? "" : `; restarted ${this.restarts} times, last after ${this.lastExit}`;
    if (this.state === "running") return { ok: true, detail: `running at ${this.clientUrl}${restarted}` };
    if (this.state === "restarting") {
      return {
        ok: false,
        detail: `the embedded nats-server ${this.lastExit}; starting it again (${this.restarts} restarts)`,
      };
    }
    return { ok: false, detail: `the embedded nats-server is ${this.state}` };
  }

  async start(): Promise<string> {
    const { dataDir, port, host = "127.0.0.1", log, authorizationFile } = this.options;
    const storeDir = join(dataDir, "jetstream");
    const portsDir = join(dataDir, "ports");
    const configFile = join(dataDir, "nats-server.conf");
    await mkdir(storeDir, { recursive: true });
    await mkdir(portsDir, { recursive: true });
    await stopLeftoverServer(join(dataDir, PID_FILE), configFile, log);
    const kept = await readKeptPort(join(dataDir, KEPT_PORT_FILE));
    const writeConfig = (listenPort: number) =>
      writeFile(
        configFile,
        renderServerConfig({ host, port: listenPort, storeDir, portsDir, configFile, authorizationFile }),
        { mode: 0o600 },
      );
    const listenPort = port || kept || 0;
    await writeConfig(listenPort);
    try {
      this.clientUrl = await this.spawnServer(configFile, portsDir);
    } catch (thrown) {
      const taken = thrown instanceof MemfarmError && /address already in use/i.test(thrown.message);
      if (!taken || listenPort === 0) throw thrown;
      if (port) {
        throw new MemfarmError(
          "nats_port_taken",
          `the NATS port ${port} (--nats-port) is in use by another process; stop it, or give another --nats-port`,
        );
      }
      // The kept port is someone else's now: a farm that starts on another one beats no farm, and
      // the warning tells whoever joined agents with the old URL to give them the new one.
      log.warn("the NATS port kept for this data dir is in use by another process; picking another", {
        keptPort: kept,
        keptIn: join(dataDir, KEPT_PORT_FILE),
        hint: "agents joined with the old NATS URL need the new one (printed below)",
      });
      await writeConfig(0);
      this.clientUrl = await this.spawnServer(configFile, portsDir);
    }
    await writeFile(join(dataDir, KEPT_PORT_FILE), `${portOf(this.clientUrl)}\n`);
    this.lifecycle.set("running", "embedded nats-server started", {
      url: this.clientUrl,
      pid: this.child?.pid,
      store: storeDir,
    });
    this.superviseFrom(configFile, portsDir);
    return this.clientUrl;
  }

  /** Starts nats-server with `configFile`; resolves to its client URL once it listens. */
  private async spawnServer(configFile: string, portsDir: string): Promise<string> {
    const { binary = "nats-server" } = this.options;
    // Its own process group: a Ctrl-C in the terminal reaches only memfarm, which stops the server
    // last, after the agent has delivered its final results through it.
    const child = spawn(binary, ["-c", configFile], {
      stdio: ["ignore", "ignore", "pipe"],
      shell: false,
      detached: true,
    });
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
    return Promise.race([this.waitForPortsFile(portsDir, child.pid ?? 0), failed]);
  }

  /** Watches the running server; an exit that stop() did not ask for starts it again. */
  private superviseFrom(configFile: string, portsDir: string): void {
    const child = this.child;
    if (!child) return;
    const startedAt = Date.now();
    child.once("exit", (code, signal) => {
      if (this.state !== "running" || this.child !== child) return; // stop() or kill() asked for it
      if (Date.now() - startedAt > STABLE_AFTER_MS) this.restarts = 0;
      this.lastExit = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.scheduleRestart(configFile, portsDir, FIRST_RESTART_DELAY_MS * 2 ** Math.min(this.restarts, 6));
    });
  }

  private scheduleRestart(configFile: string, portsDir: string, delayMs: number): void {
    const wait = Math.min(MAX_RESTART_DELAY_MS, delayMs);
    this.lifecycle.set("restarting", "the embedded nats-server stopped on its own; starting it again", {
      why: this.lastExit,
      inMs: wait,
      restarts: this.restarts,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.state !== "restarting") return;
      this.restarts += 1;
      this.spawnServer(configFile, portsDir)
        .then((url) => {
          if (this.state !== "restarting") return; // stopped meanwhile: the new one goes too
          this.clientUrl = url;
          this.lifecycle.set("running", "embedded nats-server restarted", {
            url,
            pid: this.child?.pid,
            restarts: this.restarts,
          });
          this.superviseFrom(configFile, portsDir);
        })
        .catch((thrown: unknown) => {
          if (this.state !== "restarting") return;
          this.lastExit = `could not be started again (${coerceError(thrown).message.slice(0, 300)})`;
          this.scheduleRestart(configFile, portsDir, wait * 2);
        });
    }, wait);
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
    this.halt();
    this.child?.kill("SIGKILL");
  }

  async stop(graceMs = 5000): Promise<void> {
    this.halt();
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** No restart from now on. */
  private halt(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.lifecycle.set("stopped", "embedded nats-server stopping");
  }

  /** nats-server writes `<binary>_<pid>.ports` with its client URLs once it listens. */
  private async waitForPortsFile(dir: string, pid: number): Promise<string> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const name = (await readdir(dir)).find((file) => file.endsWith(`_${pid}.ports`));
      if (name) {
        const ports = await readPortsFile(join(dir, name));
        const url = ports?.nats?.[0];
        if (url) return url;
        if (ports && ports.nats === undefined) throw new NoClientUrls();
      }
      await sleep(20);
    }
    throw new MemfarmError(
      "nats_not_ready",
      `nats-server did not report its port within ${READY_TIMEOUT_MS} ms`,
    );
  }
}

/** The ports file nats-server wrote; null while it is not complete yet. */
async function readPortsFile(file: string): Promise<{ nats?: string[] } | null> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as { nats?: string[] };
  } catch {
    return null;
  }
}

/**
 * A complete ports file without client URLs: nats-server listens on a wildcard address and could
 * not list the host's interfaces (seen under systemd with RestrictAddressFamilies= lacking
 * AF_NETLINK). Waiting would only end in the timeout, so say so at once.
 */
class NoClientUrls extends MemfarmError {
  constructor() {
    super(
      "nats_not_ready",
      "nats-server listens but could not list this host's addresses for its client URLs (on a wildcard --nats-host it reads the network interfaces; under systemd, allow AF_NETLINK in RestrictAddressFamilies=)",
    );
  }
}

/** The port an earlier start of this data dir listened on, if it recorded one. */
async function readKeptPort(file: string): Promise<number> {
  const port = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
  return Number.isSafeInteger(port) && port > 0 && port < 65536 ? port : 0;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
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
