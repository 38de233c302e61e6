import { coerceError } from "../../protocol/errors.ts";
import { checkSuiteName, checkTestName, MAX_TESTS_PER_JOB } from "../../protocol/names.ts";
import { parseMemlimit } from "../../protocol/sizes.ts";

/**
 * What a `!memfarm` comment asks for. Parsed from the comment's first line
 * into plain values that then go through the same validation as the API:
 * no word of the comment reaches a shell, and none can become a git option.
 */
export type PrCommand =
  | { kind: "run"; suite: string; memlimit: string | null; tests: string[] }
  | { kind: "cancel" }
  | { kind: "help" }
  /** A `!memfarm` line that could not be understood; the reply says why. */
  | { kind: "invalid"; problem: string };

export const COMMAND_PREFIX = "!memfarm";
const MAX_LINE = 1000;

export const HELP_TEXT = [
  "memfarm runs CPython's memory-stress suites on this pull request's head commit. Commands (first line of a comment):",
  "",
  "- `!memfarm SUITE [--memlimit SIZE] [--tests NAME,...]`: run a suite, e.g. `!memfarm bigmem --memlimit 60g`, `!memfarm refleak`, `!memfarm bigmem-smoke --tests test_bigmem`",
  "- `!memfarm cancel`: cancel this pull request's jobs that have not ended",
  "- `!memfarm help`: this message",
  "",
  "A label `memfarm: SUITE` works like the comment. Only people with write, maintain or admin permission on the repository can start or cancel jobs.",
].join("\n");

/** Null when the comment is not addressed to memfarm (its first line does not start with `!memfarm`). */
export function parsePrCommand(body: string, suites: readonly string[]): PrCommand | null {
  const firstLine = (body.split(/\r?\n/, 1)[0] ?? "").trim();
  const words = firstLine.split(/\s+/);
  if (words[0]?.toLowerCase() !== COMMAND_PREFIX) return null;
  if (firstLine.length > MAX_LINE) return invalid(`the command is longer than ${MAX_LINE} characters`);
  const [, verb, ...rest] = words;
  if (verb === undefined || verb === "help") return { kind: "help" };
  if (verb === "cancel")
    return rest.length === 0 ? { kind: "cancel" } : invalid("`cancel` takes no arguments");
  try {
    checkSuiteName(verb, "suite");
  } catch {
    return invalid(
      `\`${shown(verb)}\` is not a suite; the suites are ${suites.map((s) => `\`${s}\``).join(", ")}`,
    );
  }
  if (!suites.includes(verb)) {
    return invalid(
      `there is no suite \`${verb}\`; the suites are ${suites.map((s) => `\`${s}\``).join(", ")}`,
    );
  }
  return readOptions(verb, rest);
}

function readOptions(suite: string, words: string[]): PrCommand {
  let memlimit: string | null = null;
  let tests: string[] = [];
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index] as string;
    const equals = word.startsWith("--") ? word.indexOf("=") : -1;
    const option = equals === -1 ? word : word.slice(0, equals);
    let value = equals === -1 ? undefined : word.slice(equals + 1);
    if (value === undefined) {
      index += 1;
      value = words[index];
    }
    if (option !== "--memlimit" && option !== "--tests") {
      return invalid(`\`${shown(word)}\` is not an option; use --memlimit SIZE or --tests NAME,...`);
    }
    if (value === undefined || value === "") return invalid(`${option} needs a value`);
    try {
      if (option === "--memlimit") {
        parseMemlimit(value, "--memlimit");
        memlimit = value;
      } else {
        tests = value.split(",").map((name) => checkTestName(name, "--tests"));
        if (tests.length > MAX_TESTS_PER_JOB) return invalid(`--tests: at most ${MAX_TESTS_PER_JOB} names`);
      }
    } catch (thrown) {
      return invalid(coerceError(thrown).message);
    }
  }
  return { kind: "run", suite, memlimit, tests };
}

function invalid(problem: string): PrCommand {
  return { kind: "invalid", problem };
}

/** A word of the comment as it may appear in a reply: short, and without backticks that would end the code span. */
function shown(word: string): string {
  const clean = word.replace(/`/g, "'");
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}
