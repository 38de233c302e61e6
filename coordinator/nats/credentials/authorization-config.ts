import { agentPermissions } from "../../../protocol/subjects.ts";
import type { AgentNkey } from "../../store/nats-credentials-store.ts";

/** NATS config strings: double-quoted with JSON's escapes, which nats-server's parser reads. */
const quote = (text: string) => JSON.stringify(text);
const list = (items: string[]) => `[${items.map(quote).join(", ")}]`;

function agentUser({ agent, publicKey }: AgentNkey): string {
  const permissions = agentPermissions(agent);
  const publish = permissions.publish.allow;
  return [
    `    # agent ${agent}`,
    `    {`,
    `      nkey: ${quote(publicKey)}`,
    `      permissions: {`,
    `        publish: { allow: ${list(publish)} }`,
    `        subscribe: { allow: ${list(permissions.subscribe.allow)} }`,
    `        allow_responses: ${permissions.allowResponses}`,
    `      }`,
    `    }`,
  ].join("\n");
}

const AUTH_TIMEOUT_SECONDS = 10;

/**
 * The `authorization { users = [...] }` block for nats-server (config-file NKey users, no JWT):
 * the coordinator with every right (dispatch, its `_INBOX`, the `$JS` API), each agent with only
 * its own subjects (agentPermissions). A server includes it with `include authorization.conf`.
 */
export function renderAuthorizationConfig(coordinatorKey: string | null, agents: AgentNkey[]): string {
  const users: string[] = [];
  if (coordinatorKey) {
    // No permissions block: all subjects, including $JS.> and _INBOX.>.
    users.push(`    # the coordinator\n    { nkey: ${quote(coordinatorKey)} }`);
  }
  users.push(...agents.map(agentUser));
  return [
    "# Written by memfarm from its database; edits are overwritten. Change it with",
    "# `memfarm agents creds NAME` and `memfarm agents revoke NAME`, then reload nats-server.",
    ...(coordinatorKey
      ? []
      : ["# The coordinator's own user is not listed (its --creds is a JWT .creds file): add it."]),
    "authorization {",
    // Seconds a client has to sign the server's nonce (nats-server's default is 2): an agent
    // starting on a loaded or slow host (an emulated aarch64 VM under a build) signed too late
    // three times running and was refused with "Authentication Timeout".
    `  timeout: ${AUTH_TIMEOUT_SECONDS}`,
    "  users = [",
    users.join("\n"),
    "  ]",
    "}",
    "",
  ].join("\n");
}
