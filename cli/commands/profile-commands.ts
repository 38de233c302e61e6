import { readFileSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { writePrivateFile } from "../../protocol/private-file.ts";
import type { WhoamiResource } from "../../protocol/resources.ts";
import { ApiClient, CliError } from "../client.ts";
import type { CommandContext } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { table } from "../format.ts";
import { parseCommand } from "../parse.ts";
import {
  loginTokenFile,
  normalizeUrl,
  type Profiles,
  profileFor,
  profileName,
  profilesFile,
  readProfiles,
  saveProfile,
  writeProfiles,
} from "../profiles.ts";

/** The token in `file`: its first line. A missing or empty file is refused before the farm is asked. */
function readTokenFromFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (thrown) {
    throw new CliError(`cannot read --token-file ${file}: ${(thrown as Error).message}`, ExitCode.usage);
  }
  const token = text.trim().split("\n")[0]?.trim() ?? "";
  if (!token)
    throw new CliError(`--token-file ${file} is empty; put the token on its first line`, ExitCode.usage);
  return token;
}

/** Asks the farm whom `token` belongs to: the token works, or the error says why not and that nothing was saved. */
async function checkToken(url: string, token: string, tokenFrom: string): Promise<string> {
  const client = new ApiClient({ url, token, urlFrom: "the command line", tokenFrom });
  try {
    return (await client.get<WhoamiResource>("/whoami", { authenticated: true })).owner;
  } catch (thrown) {
    if (!(thrown instanceof CliError)) throw thrown;
    if (thrown.httpStatus === 401)
      throw new CliError(
        `the farm at ${url} refused the token: ${thrown.message}. Nothing was saved.`,
        ExitCode.usage,
      );
    if (thrown.httpStatus === 404)
      throw new CliError(
        `${url} has no /api/v1/whoami: is it a memfarm coordinator, and as new as this CLI? Nothing was saved.`,
        ExitCode.usage,
      );
    throw new CliError(`${thrown.message} Nothing was saved.`, thrown.exitCode, thrown.httpStatus);
  }
}

/**
 * `memfarm login URL --token TOKEN | --token-file FILE`: checks the token against the farm, then
 * saves a profile for it and makes it current. A token given on the command line goes to a file of
 * its own (mode 0600) beside the profiles; a --token-file is used where it is.
 */
export async function loginCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("login", context.args, {
    token: { type: "string" },
    "token-file": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  const [given, ...extra] = positionals;
  if (!given || extra.length > 0)
    throw new CliError(
      'memfarm login needs one URL, like "memfarm login https://memfarm.example.org --token-file ~/memfarm.token"',
      ExitCode.usage,
    );
  if ((values.token === undefined) === (values["token-file"] === undefined))
    throw new CliError(
      "memfarm login needs the farm's token: --token TOKEN or --token-file FILE (one of them); the farm's admin makes one with memfarm tokens create OWNER",
      ExitCode.usage,
    );
  const url = normalizeUrl(given, "the farm's URL");
  const name = profileName(url);
  const givenFile = values["token-file"] === undefined ? undefined : resolve(values["token-file"]);
  const token = givenFile ? readTokenFromFile(givenFile) : (values.token ?? "");
  if (!/^\S+$/.test(token))
    throw new CliError("--token must be the token alone: no spaces or line breaks", ExitCode.usage);
  const owner = await checkToken(url, token, givenFile ?? "--token");
  let tokenFile = givenFile;
  if (tokenFile === undefined) {
    tokenFile = loginTokenFile(context.env, name);
    await writePrivateFile(tokenFile, `${token}\n`);
  } else if ((statSync(tokenFile).mode & 0o077) !== 0) {
    context.stderr(`memfarm login: ${tokenFile} can be read by other users; chmod 600 ${tokenFile}\n`);
  }
  const saved = await saveProfile(context.env, { url, tokenFile, savedBy: "login" });
  context.stdout(
    `Logged in to ${url} as ${owner}. Profile ${saved.name} saved in ${saved.file} (token in ${tokenFile});\n` +
      "commands use this farm unless --url or MEMFARM_URL names another.\n",
  );
  return ExitCode.ok;
}

/** The profile `which` names (its name or URL), or the current one. */
function pickProfile(profiles: Profiles, which: string | undefined, file: string): string {
  const known = Object.keys(profiles.profiles);
  const list = known.length > 0 ? `; the profiles are ${known.join(", ")}` : "; there are none";
  if (which === undefined) {
    if (profiles.current === null)
      throw new CliError(`no current profile in ${file} to log out of${list}`, ExitCode.usage);
    return profiles.current;
  }
  if (which in profiles.profiles) return which;
  const byUrl = /^https?:\/\//.test(which) ? profileFor(profiles, normalizeUrl(which, "the URL")) : null;
  if (byUrl) return byUrl.name;
  throw new CliError(`no profile ${JSON.stringify(which)} in ${file}${list}`, ExitCode.usage);
}

/**
 * `memfarm logout [NAME|URL]`: forgets a profile (the current one by default), and the token file
 * `login` wrote for it. A local farm's own token in its data dir is the farm's, and stays.
 */
export async function logoutCommand(context: CommandContext): Promise<number> {
  const { positionals } = parseCommand("logout", context.args, { help: { type: "boolean", short: "h" } });
  if (positionals.length > 1)
    throw new CliError(
      'memfarm logout takes at most one profile name or URL; see "memfarm profiles"',
      ExitCode.usage,
    );
  const file = profilesFile(context.env);
  const profiles = readProfiles(file);
  const name = pickProfile(profiles, positionals[0], file);
  const profile = profiles.profiles[name];
  if (!profile) throw new CliError(`no profile ${name} in ${file}`, ExitCode.usage);
  delete profiles.profiles[name];
  if (profiles.current === name) profiles.current = null;
  await writeProfiles(file, profiles);
  const ownToken = dirname(profile.tokenFile) === dirname(loginTokenFile(context.env, name));
  if (ownToken) await rm(profile.tokenFile, { force: true });
  context.stdout(
    `Logged out of ${profile.url} (profile ${name} removed from ${file}` +
      `${ownToken ? `, and its token file ${profile.tokenFile}` : `; ${profile.tokenFile} is left as it was`}).\n`,
  );
  return ExitCode.ok;
}

/** `memfarm profiles [--json]`: the farms this CLI knows, and which one commands use by default. */
export async function profilesCommand(context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("profiles", context.args, {
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (positionals.length > 0)
    throw new CliError('memfarm profiles takes no arguments; see "memfarm profiles --help"', ExitCode.usage);
  const file = profilesFile(context.env);
  const profiles = readProfiles(file);
  if (values.json) {
    context.stdout(`${JSON.stringify({ file, ...profiles })}\n`);
    return ExitCode.ok;
  }
  const rows = Object.entries(profiles.profiles).map(([name, profile]) => [
    name === profiles.current ? "*" : "",
    name,
    profile.url,
    profile.tokenFile,
    profile.savedBy,
  ]);
  context.stdout(
    rows.length === 0
      ? `no profiles in ${file}: "memfarm up" saves one for its farm, "memfarm login URL --token TOKEN" one for a remote farm\n`
      : `${table(["", "NAME", "URL", "TOKEN FILE", "SAVED BY"], rows)}\n(* = current; in ${file})\n`,
  );
  return ExitCode.ok;
}
