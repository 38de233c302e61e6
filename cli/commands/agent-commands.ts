import { chmod, writeFile } from "node:fs/promises";
import { CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { createClient } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { GLOBAL_OPTIONS, parseCommand } from "../parse.ts";

interface IssuedCredentials {
  agent: string;
  publicKey: string;
  credentials: string;
  serverReloaded: boolean;
  authorizationFile: string;
}

/** What an admin of an external NATS does after a change of users; the coordinator cannot. */
const reloadHint = (file: string) =>
  `The farm's NATS is not the coordinator's own: include ${file} (on the coordinator's host) in the nats-server config and reload it (nats-server --signal reload).\n`;

/** `memfarm agents creds NAME [--output FILE]`, `memfarm agents revoke NAME`: agents' NATS credentials. */
export async function agentsCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("agents", context.args, {
    ...GLOBAL_OPTIONS,
    output: { type: "string", short: "o" },
  });
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const [action, name] = positionals;
  if (action !== "creds" && action !== "revoke") {
    throw new CliError(
      `${action === undefined ? "missing" : `unknown`} agents action${action === undefined ? "" : ` "${action}"`}; use "memfarm agents creds NAME" or "memfarm agents revoke NAME"`,
      ExitCode.usage,
    );
  }
  if (!name) throw new CliError(`memfarm agents ${action} needs an agent name`, ExitCode.usage);
  const path = `/agents/${encodeURIComponent(name)}/${action === "creds" ? "credentials" : "revoke"}`;
  if (action === "revoke") {
    const revoked = await client.post<{ agent: string; serverReloaded: boolean }>(path);
    if (values.json) context.stdout(`${JSON.stringify(revoked)}\n`);
    else context.stdout(`${revoked.agent}: NATS credentials revoked\n`);
    if (!revoked.serverReloaded) context.stderr(reloadHint("DATA_DIR/nats/authorization.conf"));
    return ExitCode.ok;
  }
  const issued = await client.post<IssuedCredentials>(path);
  if (values.output) {
    // The seed is a secret: readable by its owner only, as nats-server tools expect.
    await writeFile(values.output, issued.credentials, { mode: 0o600 });
    await chmod(values.output, 0o600);
    context.stderr(
      `credentials of agent ${issued.agent} written to ${values.output} (mode 0600); copy it to that host only and run:\n` +
        `  memfarm agent --nats URL --creds FILE --name ${issued.agent}\n`,
    );
  }
  if (values.json) context.stdout(`${JSON.stringify(issued)}\n`);
  else if (!values.output) context.stdout(issued.credentials);
  if (!issued.serverReloaded) context.stderr(reloadHint(issued.authorizationFile));
  return ExitCode.ok;
}
