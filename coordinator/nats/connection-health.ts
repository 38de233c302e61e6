import type { NatsConnection } from "@nats-io/transport-node";
import type { HealthCheck } from "../http/health-route.ts";

/**
 * Whether the coordinator's own NATS connection is up, from the client's status events: while it
 * is down, agents cannot reach the coordinator (their reports wait on their disks).
 */
export class ConnectionHealth {
  private down: string | null = null;

  constructor(nc: NatsConnection) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect") this.down = `disconnected from ${status.server}; reconnecting`;
        else if (status.type === "reconnect") this.down = null;
        else if (status.type === "close") this.down = "the NATS connection is closed";
      }
    })().catch(() => undefined);
  }

  get connected(): boolean {
    return this.down === null;
  }

  get check(): HealthCheck {
    return this.down === null ? { ok: true } : { ok: false, detail: this.down };
  }
}
