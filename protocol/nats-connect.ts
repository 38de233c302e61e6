import { readFile } from "node:fs/promises";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";

export interface NatsTarget {
  servers: string[];
  /** A NATS `.creds` file (JWT + seed) for farms that issue credentials per agent. */
  credsFile?: string;
}

/**
 * Connects to NATS the way every memfarm process does: reconnect forever
 * (a restarted nats-server must not strand an agent mid-job), named for the
 * server's monitoring pages.
 */
export async function connectNats(target: NatsTarget, name: string): Promise<NatsConnection> {
  const authenticator = target.credsFile
    ? credsAuthenticator(new Uint8Array(await readFile(target.credsFile)))
    : undefined;
  return connect({
    servers: target.servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    authenticator,
  });
}
