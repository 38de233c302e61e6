import { type ParseArgsConfig, parseArgs } from "node:util";
import { CliError } from "./client.ts";
import { ExitCode } from "./exit-codes.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Options every API command takes. */
export const GLOBAL_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  "data-dir": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/** node:util parseArgs with errors a person can act on. */
export function parseCommand<T extends Options>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (thrown) {
    throw new CliError(`${(thrown as Error).message}\nSee "memfarm ${command} --help".`, ExitCode.usage);
  }
}
