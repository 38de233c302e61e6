import { isAbsolute } from "node:path";
import { ValidationError } from "../protocol/errors.ts";
import { ALL_PRIORITIES, Priority } from "../protocol/job-status.ts";
import { checkLabels, checkSuiteName, checkTestName, MAX_TESTS_PER_JOB } from "../protocol/names.ts";
import { parseMemlimit } from "../protocol/sizes.ts";
import {
  readEnum,
  readObject,
  readOptionalString,
  readOptionalStringArray,
  readString,
  readStringRecord,
  rejectUnknownKeys,
} from "../protocol/validate.ts";
import type { Suite } from "./suites.ts";

/** A validated `POST /jobs` body. */
export interface JobRequest {
  suite: Suite;
  python: string;
  memlimitBytes: number | null;
  tests: string[];
  priority: Priority;
  labels: Record<string, string>;
  source: string;
}

const KNOWN_FIELDS = ["suite", "python", "ref", "repo", "memlimit", "tests", "priority", "labels", "source"];
const SOURCES = ["cli", "dashboard", "api"] as const;
const MAX_PATH = 4096;

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
  if (fields.ref !== undefined || fields.repo !== undefined) {
    throw new ValidationError(
      "ref_builds_unavailable",
      "building CPython from a git ref is not available on this farm yet; give the path of an installed interpreter with python (--python PATH)",
      "ref",
    );
  }
  const python = readOptionalString(fields, "python");
  if (python === undefined) {
    throw new ValidationError(
      "missing_field",
      "python is required: the absolute path of an interpreter on the agents (--python PATH)",
      "python",
    );
  }
  if (!isAbsolute(python) || python.length > MAX_PATH || python.includes("\0")) {
    throw new ValidationError(
      "invalid_python",
      `python: "${python}" must be an absolute path, like /usr/bin/python3`,
      "python",
    );
  }
  const tests = (readOptionalStringArray(fields, "tests") ?? []).map((name) => checkTestName(name, "tests"));
  if (tests.length > MAX_TESTS_PER_JOB) {
    throw new ValidationError("too_many_tests", `tests: at most ${MAX_TESTS_PER_JOB} names per job`, "tests");
  }
  return {
    suite,
    python,
    memlimitBytes: readMemlimit(fields.memlimit, suite),
    tests,
    priority: fields.priority === undefined ? Priority.normal : readEnum(fields, "priority", ALL_PRIORITIES),
    labels: checkLabels(readStringRecord(fields, "labels"), "labels"),
    source: fields.source === undefined ? "api" : readEnum(fields, "source", SOURCES),
  };
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
