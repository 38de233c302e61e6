import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { MemfarmError } from "../protocol/errors.ts";
import type { Logger } from "../protocol/logger.ts";

export interface EmbeddedNatsOptions {
  /** Directory for JetStream's store and the ports file. */
  dataDir: string;
  /** Client port; 0 lets nats-server pick a free one. */
  port: number;
  host?: string;
  binary?: string;
  log: Logger;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * A nats-server child process with JetStream on, for a farm on one machine.
 * Lifecycle: start() resolves once the server listens and its URL is known;
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
    const { dataDir, port, host = "127.0.0.1", binary = "nats-server", log } = this.options;
    const storeDir = join(dataDir, "jetstream");
    const portsDir = join(dataDir, "ports");
    await mkdir(storeDir, { recursive: true });
    await mkdir(portsDir, { recursive: true });
    const args = [
      "-a",
      host,
      "-p",
      String(port === 0 ? -1 : port),
      "-js",
      "-sd",
      storeDir,
      "--ports_file_dir",
      portsDir,
    ];
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
