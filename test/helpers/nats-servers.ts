import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free-port.ts";

export { freePort };

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

/**
 * One real nats-server with JetStream, on a fixed loopback port and store, so a test can kill it
 * (SIGKILL, like a crash) and start it again on the same data, as an admin would after a reboot.
 */
export class NatsNode {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly port: number,
    private readonly args: string[],
    /** The server_name of a cluster node (n1, n2, n3), as JetStream's stream info names it. */
    readonly name = "",
    /** The node's monitoring port (cluster nodes), where /connz lists the clients connected to it. */
    readonly monitorPort = 0,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** A single server: `-js -sd DIR` on `port`. */
  static single(dir: string, port: number): NatsNode {
    mkdirSync(dir, { recursive: true });
    return new NatsNode(port, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir]);
  }

  /** Whether a client with this connection name is connected to this node now (monitoring /connz). */
  async hasClient(connectionName: string): Promise<boolean> {
    if (!this.monitorPort) throw new Error("this node has no monitoring port");
    try {
      const response = await fetch(`http://127.0.0.1:${this.monitorPort}/connz?limit=4096`);
      const connz = (await response.json()) as { connections?: { name?: string }[] };
      return (connz.connections ?? []).some((connection) => connection.name === connectionName);
    } catch {
      return false; // the node is down
    }
  }

  async start(): Promise<void> {
    const child = spawn("nats-server", this.args, { stdio: "ignore", detached: true });
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    for (let tries = 0; tries < 200; tries += 1) {
      if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
      if (await listening(this.port)) return;
      await sleep(25);
    }
    throw new Error(`nats-server did not listen on ${this.port}`);
  }

  /** SIGKILL: no chance to flush or say goodbye. */
  async kill(): Promise<void> {
    this.child?.kill("SIGKILL");
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      await this.exited;
    }
  }
}

/**
 * A 3-node JetStream cluster on loopback ports, from config files (server_name, cluster routes,
 * jetstream store_dir), as platform.md describes.
 */
export async function startCluster(dir: string): Promise<NatsNode[]> {
  const clientPorts = [await freePort(), await freePort(), await freePort()];
  const routePorts = [await freePort(), await freePort(), await freePort()];
  const monitorPorts = [await freePort(), await freePort(), await freePort()];
  const nodes = clientPorts.map((port, index) => {
    const name = `n${index + 1}`;
    const store = join(dir, name);
    mkdirSync(store, { recursive: true });
    const routes = routePorts
      .filter((_, other) => other !== index)
      .map((route) => `nats-route://127.0.0.1:${route}`);
    const config = join(dir, `${name}.conf`);
    writeFileSync(
      config,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${port}`,
        `http: 127.0.0.1:${monitorPorts[index]}`,
        `jetstream { store_dir: "${store}" }`,
        `cluster { name: memfarm-test, listen: 127.0.0.1:${routePorts[index]}, routes: [${routes.join(", ")}] }`,
        "",
      ].join("\n"),
    );
    return new NatsNode(port, ["-c", config], name, monitorPorts[index]);
  });
  await Promise.all(nodes.map((node) => node.start()));
  return nodes;
}
