import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { HostLogLine, HostResource } from "../../protocol/resources.ts";
import { type ApiClient, CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";

/** How often the CLI asks for a host's new log lines while an operation runs. */
const POLL_MS = 300;
const DEFAULT_IDENTITIES = ["id_ed25519", "id_ecdsa", "id_rsa"];

/**
 * The identity is read here and sent for one operation; the coordinator keeps it in memory only
 * (docs/operations/hosts-over-ssh.md). Without --identity, the usual OpenSSH defaults.
 */
export function readIdentity(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
): { identity: string; passphrase?: string } {
  const candidates = file ? [file] : DEFAULT_IDENTITIES.map((name) => join(homedir(), ".ssh", name));
  for (const candidate of candidates) {
    try {
      const identity = readFileSync(candidate, "utf8");
      const passphrase = env.MEMFARM_SSH_PASSPHRASE;
      return passphrase ? { identity, passphrase } : { identity };
    } catch (thrown) {
      if (file)
        throw new CliError(`cannot read the identity ${file}: ${(thrown as Error).message}`, ExitCode.usage);
    }
  }
  throw new CliError(
    "no --identity given and no ~/.ssh/id_ed25519, id_ecdsa or id_rsa to use",
    ExitCode.usage,
  );
}

function formatLine(line: HostLogLine): string {
  const mark = line.level === "info" ? "" : `${line.level === "warn" ? "warning" : "error"}: `;
  return `[${line.step}] ${mark}${line.message}\n`;
}

/** Prints the host's log as it grows until the operation ends; exit 0 only when it succeeded. */
export async function followHostOperation(
  context: CommandContext,
  client: ApiClient,
  started: HostResource,
  json: boolean,
): Promise<number> {
  let after = 0;
  let host = started;
  for (;;) {
    host = await client.get<HostResource>(`/hosts/${encodeURIComponent(started.name)}?after=${after}`);
    for (const line of host.log) {
      if (!json) context.stdout(formatLine(line));
      after = line.seq;
    }
    if (host.status !== "working") break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (json) context.stdout(`${JSON.stringify({ ...host, log: undefined })}\n`);
  if (host.status === "failed") {
    throw new CliError(
      `${host.operation} ${host.name} failed at step ${host.step}: ${host.error}`,
      ExitCode.error,
    );
  }
  return ExitCode.ok;
}
