import { parseTokenId } from "../../protocol/ids.ts";
import type { CreatedTokenResource, TokenResource } from "../../protocol/resources.ts";
import { CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { createClient } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { table } from "../format.ts";
import { GLOBAL_OPTIONS, parseCommand } from "../parse.ts";

function tokensTable(tokens: TokenResource[]): string {
  return table(
    ["ID", "OWNER", "CREATED", "REVOKED"],
    tokens.map((token) => [String(token.id), token.owner, token.createdAt, token.revokedAt ?? "-"]),
  );
}

/** `memfarm tokens list`, `memfarm tokens create OWNER`, `memfarm tokens revoke ID` (admin token only). */
export async function tokensCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("tokens", context.args, GLOBAL_OPTIONS);
  const client = createClient(
    { url: values.url, token: values.token, dataDir: values["data-dir"] },
    context.env,
  );
  const [action = "list", argument] = positionals;
  if (action === "list") {
    const { tokens } = await client.get<{ tokens: TokenResource[] }>("/tokens", { authenticated: true });
    context.stdout(values.json ? `${JSON.stringify({ tokens })}\n` : `${tokensTable(tokens)}\n`);
    return ExitCode.ok;
  }
  if (action === "create") {
    if (!argument)
      throw new CliError(
        'memfarm tokens create needs an owner, like "memfarm tokens create pr-bot"',
        ExitCode.usage,
      );
    const created = await client.post<CreatedTokenResource>("/tokens", { owner: argument });
    context.stdout(
      values.json
        ? `${JSON.stringify(created)}\n`
        : `token ${created.id} for ${created.owner} (shown only now; keep it secret):\n${created.token}\n`,
    );
    return ExitCode.ok;
  }
  if (action === "revoke") {
    if (!argument)
      throw new CliError(
        'memfarm tokens revoke needs a token id, like "memfarm tokens revoke 3" ("memfarm tokens list" shows them)',
        ExitCode.usage,
      );
    const revoked = await client.post<TokenResource>(`/tokens/${parseTokenId(argument, "ID")}/revoke`);
    context.stdout(
      values.json
        ? `${JSON.stringify(revoked)}\n`
        : `token ${revoked.id} of ${revoked.owner} revoked at ${revoked.revokedAt}\n`,
    );
    return ExitCode.ok;
  }
  throw new CliError(`unknown tokens action "${action}"; see "memfarm tokens --help"`, ExitCode.usage);
}
