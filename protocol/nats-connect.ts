import {
  AuthorizationError,
  connect,
  type NatsConnection,
  PermissionViolationError,
} from "@nats-io/transport-node";
import { MemfarmError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { readCredentialsFile } from "./nats-credentials.ts";

export interface NatsTarget {
  servers: string[];
  /** `--creds FILE`: a NATS `.creds` file (JWT + seed) or an NKey user seed file. */
  credsFile?: string;
}

export interface NatsClientOptions {
  /**
   * Where request replies arrive. An agent uses its own (inboxPrefixFor), the only inbox its NATS
   * permissions let it subscribe to; the default `_INBOX` is for the coordinator.
   */
  inboxPrefix?: string;
  /** Where refusals by the server (permissions, revoked credentials) are logged. */
  log?: Logger;
}

/** The server refused the connection's credentials (or that it has none). */
export class NatsAuthError extends MemfarmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("nats_unauthorized", message, options);
  }
}

/**
 * Connects to NATS the way every memfarm process does: reconnect forever
 * (a restarted nats-server must not strand an agent mid-job), named for the
 * server's monitoring pages.
 */
export async function connectNats(
  target: NatsTarget,
  name: string,
  options: NatsClientOptions = {},
): Promise<NatsConnection> {
  const credentials = target.credsFile ? await readCredentialsFile(target.credsFile) : undefined;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: target.servers,
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      authenticator: credentials?.authenticator,
      inboxPrefix: options.inboxPrefix,
    });
  } catch (thrown) {
    if (thrown instanceof AuthorizationError) throw refusal(target, thrown);
    throw thrown;
  }
  if (options.log) void logRefusals(nc, target, options.log);
  return nc;
}

function refusal(target: NatsTarget, cause: Error): NatsAuthError {
  return new NatsAuthError(
    target.credsFile
      ? `NATS refused the credentials in ${target.credsFile}: ${cause.message}. They may be revoked or for another farm; ask the farm's admin for new ones (memfarm agents creds NAME)`
      : `NATS refused the connection: ${cause.message}. This server needs credentials: pass --creds FILE`,
    { cause },
  );
}

/**
 * Logs what the server refuses on a live connection. A permission violation means this process
 * tried to speak outside its rights (a bug or a misconfigured server); an authorization error after
 * connecting means the credentials were revoked, and nats.js gives up reconnecting.
 */
async function logRefusals(nc: NatsConnection, target: NatsTarget, log: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type !== "error") continue;
    const { error } = status;
    if (error instanceof PermissionViolationError) {
      log.error("NATS refused a message: permission violation", {
        operation: error.operation,
        subject: error.subject,
      });
    } else if (error instanceof AuthorizationError) {
      log.error(refusal(target, error).message);
    }
  }
}
