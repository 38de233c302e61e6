import { ValidationError } from "../../protocol/errors.ts";
import { checkGitRef, checkRepoUrl, DEFAULT_CPYTHON_REPO } from "../../protocol/git-refs.ts";
import { ALL_PRIORITIES, Priority } from "../../protocol/job-status.ts";
import {
  checkInterpreterPath,
  checkLabels,
  checkSuiteName,
  checkTestName,
  MAX_TESTS_PER_JOB,
} from "../../protocol/names.ts";
import { parseMemlimit } from "../../protocol/sizes.ts";
import {
  type Fields,
  readBoolean,
  readEnum,
  readObject,
  readOptionalString,
  readOptionalStringArray,
  readString,
  readStringRecord,
  rejectUnknownKeys,
} from "../../protocol/validate.ts";
import { MAX_WORKERS, type Suite } from "./suites.ts";

/** A validated `POST /jobs` body: an installed interpreter to use, or a git ref to build. */
export interface JobRequest {
  suite: Suite;
  python: string | null;
  build: { repo: string; ref: string } | null;
  memlimitBytes: number | null;
  tests: string[];
  priority: Priority;
  labels: Record<string, string>;
  source: string;
  /** The job needs a whole host to itself. */
  exclusive: boolean;
  /** regrtest workers (`-jN`) asked for; null: the suite's, but no more than the test files. */
  workers: number | null;
}

const KNOWN_FIELDS = [
  "suite",
  "python",
  "ref",
  "repo",
  "memlimit",
  "tests",
  "priority",
  "labels",
  "source",
  "exclusive",
  "workers",
];
const SOURCES = ["cli", "dashboard", "api"] as const;

/** Validates a job request against the loaded suites; every error names the field to change. */
export function parseJobRequest(body: unknown, suites: Map<string, Suite>): JobRequest {
  const fields = readObject(body, "the request body");
  rejectUnknownKeys(fields, KNOWN_FIELDS);
  const suiteName = checkSuiteName(readString(fields, "suite"));
  const suite = suites.get(suiteName);
  if (!suite) {
    throw new ValidationError(
      "unknown_suite",
      `suite "${suiteName}" does not exist; the suites are ${[...suites.keys()].join(", ")}`,
      "suite",
    );
  }
  const common = {
    suite,
    memlimitBytes: readMemlimit(fields.memlimit, suite),
    tests: readTests(fields),
    priority: fields.priority === undefined ? Priority.normal : readEnum(fields, "priority", ALL_PRIORITIES),
    labels: checkLabels(readStringRecord(fields, "labels"), "labels"),
    source: fields.source === undefined ? "api" : readEnum(fields, "source", SOURCES),
    exclusive: fields.exclusive === undefined ? false : readBoolean(fields, "exclusive"),
    workers: readWorkers(fields.workers),
  };
  return { ...common, ...readWhatToRun(fields) };
}

function readWhatToRun(fields: Fields): Pick<JobRequest, "python" | "build"> {
  const python = readOptionalString(fields, "python");
  const ref = readOptionalString(fields, "ref");
  const repo = readOptionalString(fields, "repo");
  if (python !== undefined && (ref !== undefined || repo !== undefined)) {
    throw new ValidationError(
      "conflicting_fields",
      "give either python (an installed interpreter) or ref (a CPython build), not both",
      "ref",
    );
  }
  if (ref !== undefined) {
    // Whether a local path may be built is each agent's choice (--allow-local-repos); the agent checks again.
    const checkedRepo = checkRepoUrl(repo ?? DEFAULT_CPYTHON_REPO, { allowLocal: true });
    return { python: null, build: { ref: checkGitRef(ref), repo: checkedRepo } };
  }
  if (repo !== undefined) {
    throw new ValidationError(
      "missing_field",
      "repo needs a ref to build (--ref BRANCH|TAG|SHA|pull/N/head)",
      "ref",
    );
  }
  if (python === undefined) {
    throw new ValidationError(
      "missing_field",
      "say what to run: python (--python PATH, an interpreter on the agents) or ref (--ref REF, a CPython build)",
      "python",
    );
  }
  return { python: checkInterpreterPath(python), build: null };
}

function readTests(fields: Fields): string[] {
  const tests = (readOptionalStringArray(fields, "tests") ?? []).map((name) => checkTestName(name, "tests"));
  if (tests.length > MAX_TESTS_PER_JOB) {
    throw new ValidationError("too_many_tests", `tests: at most ${MAX_TESTS_PER_JOB} names per job`, "tests");
  }
  return tests;
}

function readWorkers(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const workers = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof workers !== "number" || !Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new ValidationError(
      "invalid_workers",
      `workers must be a whole number from 1 to ${MAX_WORKERS} (regrtest's -jN), not ${JSON.stringify(value)}`,
      "workers",
    );
  }
  return workers;
}

function readMemlimit(value: unknown, suite: Suite): number | null {
  if (value === undefined || value === null) return suite.memlimitBytes;
  if (typeof value === "number") return parseMemlimit(String(value));
  if (typeof value === "string") return parseMemlimit(value);
  throw new ValidationError(
    "invalid_type",
    "memlimit must be a size like 60g or a number of bytes",
    "memlimit",
  );
}
