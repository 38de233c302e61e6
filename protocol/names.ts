import { isIP } from "node:net";
import { isAbsolute } from "node:path";
import { quoted, ValidationError } from "./errors.ts";

/**
 * Patterns for names that travel to hosts and end up in argument arrays.
 * Nothing here may start with `-`, so no name can be read as an option.
 */

/** A regrtest test name: `test_bigmem`, `test_asyncio.test_tasks`, `test.test_bigmem`. */
const TEST_NAME = /^test(_[A-Za-z0-9_]*)?(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const SUITE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const LABEL_KEY = /^[a-z][a-z0-9_.-]{0,62}$/;
const LABEL_VALUE = /^[A-Za-z0-9_.:-]{1,128}$/;
export const MAX_TESTS_PER_JOB = 500;

export function isTestName(name: string): boolean {
  return TEST_NAME.test(name) && name.length <= 200;
}

export function checkTestName(name: string, field = "tests"): string {
  if (!isTestName(name)) {
    throw new ValidationError(
      "invalid_test_name",
      `${field}: ${quoted(name)} is not a regrtest test name; use names like test_bigmem or test_asyncio.test_tasks`,
      field,
    );
  }
  return name;
}

export function checkSuiteName(name: string, field = "suite"): string {
  if (!SUITE_NAME.test(name)) {
    throw new ValidationError(
      "invalid_suite_name",
      `${field}: ${quoted(name)} is not a suite name (lowercase letters, digits and -)`,
      field,
    );
  }
  return name;
}

/** Whether `name` could name an agent (for lookups that answer 404 rather than 400). */
export function isAgentName(name: string): boolean {
  return AGENT_NAME.test(name);
}

/** Agent names become NATS subject tokens, so no dots, spaces or wildcards. */
export function checkAgentName(name: string, field = "name"): string {
  if (!AGENT_NAME.test(name)) {
    throw new ValidationError(
      "invalid_agent_name",
      `${field}: ${quoted(name)} is not an agent name (letters, digits, _ and -, at most 63)`,
      field,
    );
  }
  return name;
}

/**
 * The agent name a machine gets unless `--name` says otherwise, whether it runs `memfarm agent`
 * itself or is added over SSH: its hostname's first label, as people call it (arm1 for
 * arm1.example.org), or an IP address with dashes for its dots or colons. What a name may not hold
 * becomes -, and a leading - or _ goes, so the result always passes checkAgentName.
 */
export function agentNameFromHost(host: string): string {
  const base = isIP(host) === 0 ? (host.split(".")[0] ?? "") : host;
  return (
    base
      .replace(/[^A-Za-z0-9_-]/g, "-")
      .replace(/^[-_]+/, "")
      .slice(0, 63) || "agent"
  );
}

/** Linux's PATH_MAX: no interpreter path is longer. */
const MAX_PATH = 4096;

/** An interpreter to run on a host: an absolute path, as the coordinator accepts it and hands it out. */
export function checkInterpreterPath(python: string, field = "python"): string {
  if (!isAbsolute(python) || python.length > MAX_PATH || python.includes("\0")) {
    throw new ValidationError(
      "invalid_python",
      `${field}: ${quoted(python)} must be an absolute path, like /usr/bin/python3`,
      field,
    );
  }
  return python;
}

/** Parses `k=v,k2=v2` into labels. */
export function parseLabels(text: string, field = "labels"): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(",").filter((part) => part.trim() !== "")) {
    const [key = "", value = "", ...rest] = pair.trim().split("=");
    if (rest.length > 0 || key === "") {
      throw new ValidationError("invalid_label", `${field}: ${quoted(pair)} must look like key=value`, field);
    }
    labels[key] = value;
  }
  return checkLabels(labels, field);
}

/** Labels are a handful of placement words (arch, pool, gpu); thousands would be a mistake or an attack. */
const MAX_LABELS = 64;

export function checkLabels(labels: Record<string, string>, field = "labels"): Record<string, string> {
  if (Object.keys(labels).length > MAX_LABELS) {
    throw new ValidationError("invalid_label", `${field}: at most ${MAX_LABELS} labels`, field);
  }
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL_KEY.test(key) || !LABEL_VALUE.test(value)) {
      throw new ValidationError(
        "invalid_label",
        `${field}: ${quoted(`${key}=${value}`)} is not a label; keys are lowercase words, values letters, digits and _.:-`,
        field,
      );
    }
  }
  return labels;
}
