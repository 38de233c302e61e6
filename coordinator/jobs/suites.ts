import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { checkConfigureFlags } from "../../protocol/configure-flags.ts";
import { MemfarmError, ValidationError } from "../../protocol/errors.ts";
import { checkSuiteName, checkTestName } from "../../protocol/names.ts";
import { memlimitArgument, parseMemlimit, parseSize } from "../../protocol/sizes.ts";
import {
  type Fields,
  readNumber,
  readObject,
  readOptionalString,
  readString,
  readStringArray,
  rejectUnknownKeys,
} from "../../protocol/validate.ts";

/**
 * A suite: one declarative file in `jobs/`, named after the file.
 * See jobs/README.md for the fields.
 */
export interface Suite {
  name: string;
  description: string;
  /** regrtest options after `-m test`, before the memlimit, workers and test names. */
  args: string[];
  /** Test names run when a job names none (empty: the whole test suite). */
  tests: string[];
  /** regrtest worker processes (`-jN`); 1 runs the tests in one process. */
  workers: number;
  /** The default `-M`, or null for suites that run without a memlimit unless a job asks. */
  memlimitBytes: number | null;
  reservation: {
    /** Each worker may use up to this much; null means "the job's memlimit". */
    perWorkerBytes: number | null;
    overheadBytes: number;
  };
  timeoutSeconds: number;
  /** Seconds without output after which a job counts as hung; 0 for no such limit. */
  noOutputTimeoutSeconds: number;
  build: { configureFlags: string[] };
}

/** Options a suite may not set in `args`, because the suite's own fields set them. */
const RESERVED_OPTIONS = /^(-M|--memlimit|-j|--use-mp|--multiprocess)(=|$|\d)/;
const KNOWN_FIELDS = [
  "description",
  "args",
  "tests",
  "workers",
  "memlimit",
  "reservation",
  "timeoutSeconds",
  "noOutputTimeoutSeconds",
  "build",
];

/** A suite file that cannot be used; the message names the file and the field. */
export class SuiteFileError extends ValidationError {
  constructor(file: string, cause: ValidationError | Error) {
    const field = cause instanceof ValidationError ? cause.field : undefined;
    super("invalid_suite_file", `${file}${field ? ` (field "${field}")` : ""}: ${cause.message}`, field);
  }
}

/** Reads every `*.json` suite in `dir`; a broken file throws a SuiteFileError naming the file and field. */
export function loadSuites(dir: string): Map<string, Suite> {
  const suites = new Map<string, Suite>();
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort();
  for (const file of files) {
    const path = join(dir, file);
    let suite: Suite;
    try {
      suite = parseSuite(basename(file, ".json"), readFileSync(path, "utf8"));
    } catch (thrown) {
      throw new SuiteFileError(path, thrown instanceof Error ? thrown : new Error(String(thrown)));
    }
    suites.set(suite.name, suite);
  }
  if (suites.size === 0) throw new MemfarmError("no_suites", `${dir} holds no suite files (*.json)`);
  return suites;
}

export function parseSuite(name: string, text: string): Suite {
  checkSuiteName(name, "file name");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (thrown) {
    throw new ValidationError("invalid_json", `not valid JSON: ${(thrown as Error).message}`);
  }
  const fields = readObject(json, "the suite");
  rejectUnknownKeys(fields, KNOWN_FIELDS);
  const args = readStringArray(fields, "args");
  for (const arg of args) {
    if (RESERVED_OPTIONS.test(arg)) {
      throw new ValidationError(
        "reserved_option",
        `"${arg}" is set by the suite's "workers" and "memlimit" fields, not in args`,
        "args",
      );
    }
    if (arg.includes("\0"))
      throw new ValidationError("invalid_value", "args must not contain NUL bytes", "args");
  }
  const tests =
    fields.tests === undefined ? [] : readStringArray(fields, "tests").map((t) => checkTestName(t, "tests"));
  const workers = readWholeNumber(fields, "workers", 1, MAX_WORKERS);
  const memlimitText = readOptionalString(fields, "memlimit");
  const reservation = readObject(fields.reservation ?? {}, "reservation");
  rejectUnknownKeys(reservation, ["perWorker", "overhead"], "reservation.");
  const perWorker = readOptionalString(reservation, "perWorker", "reservation.") ?? "memlimit";
  const memlimitBytes = memlimitText === undefined ? null : parseMemlimit(memlimitText, "memlimit");
  if (perWorker === "memlimit" && memlimitBytes === null) {
    throw new ValidationError(
      "invalid_value",
      'a suite without a memlimit must give reservation.perWorker as a size (e.g. "2G")',
      "reservation.perWorker",
    );
  }
  const build = readObject(fields.build ?? {}, "build");
  rejectUnknownKeys(build, ["configureFlags"], "build.");
  return {
    name,
    description: readString(fields, "description"),
    args,
    tests,
    workers,
    memlimitBytes,
    reservation: {
      perWorkerBytes: perWorker === "memlimit" ? null : parseSize(perWorker, "reservation.perWorker"),
      overheadBytes: parseSize(
        readOptionalString(reservation, "overhead", "reservation.") ?? "1G",
        "reservation.overhead",
      ),
    },
    timeoutSeconds: readWholeNumber(fields, "timeoutSeconds", 10, 7 * 24 * 3600),
    noOutputTimeoutSeconds:
      fields.noOutputTimeoutSeconds === undefined
        ? 0
        : readWholeNumber(fields, "noOutputTimeoutSeconds", 0, 7 * 24 * 3600),
    build: {
      configureFlags:
        build.configureFlags === undefined
          ? []
          : checkConfigureFlags(readStringArray(build, "configureFlags", "build."), "build.configureFlags"),
    },
  };
}

function readWholeNumber(fields: Fields, key: string, min: number, max: number): number {
  const value = readNumber(fields, key);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError("invalid_value", `${key} must be a whole number from ${min} to ${max}`, key);
  }
  return value;
}

/**
 * Memory a job of this suite may use at once: `-jN` means up to N tests at
 * the memlimit together, plus the interpreter's own overhead.
 */
export function reservationFor(suite: Suite, memlimitBytes: number | null, workers = suite.workers): number {
  return suite.reservation.overheadBytes + workers * perWorkerBytes(suite, memlimitBytes);
}

/** What one regrtest worker of the suite may use: its declared share, or the memlimit. */
export function perWorkerBytes(suite: Suite, memlimitBytes: number | null): number {
  return suite.reservation.perWorkerBytes ?? memlimitBytes ?? 0;
}

/** The most workers a job may ask for with --workers. */
export const MAX_WORKERS = 1024;

/**
 * How many regrtest workers a job runs: what it asked for, else the suite's number but no more
 * than the test files it runs (`-j4` for one file starts one worker, yet would reserve four).
 */
export function workersFor(suite: Suite, requested: number | null, tests: readonly string[]): number {
  if (requested !== null) return requested;
  const files = tests.length > 0 ? tests.length : suite.tests.length;
  return files > 0 ? Math.min(suite.workers, files) : suite.workers;
}

/** The interpreter's arguments for a job: unbuffered (the log streams live), isolated from PYTHON* variables. */
export function regrtestArgs(
  suite: Suite,
  memlimitBytes: number | null,
  tests: string[],
  workers = suite.workers,
): string[] {
  return [
    "-u",
    "-E",
    "-m",
    "test",
    ...suite.args,
    ...(workers > 1 ? [`-j${workers}`] : []),
    ...(memlimitBytes === null ? [] : ["-M", memlimitArgument(memlimitBytes)]),
    ...(tests.length > 0 ? tests : suite.tests),
  ];
}
