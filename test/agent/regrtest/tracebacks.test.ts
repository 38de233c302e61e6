import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RegrtestOutputReader } from "../../../agent/regrtest/regrtest-output.ts";
import { TestTimeline } from "../../../agent/regrtest/test-timeline.ts";
import type { TestRecord } from "../../../protocol/messages.ts";
import { findTestPython } from "../../helpers/python.ts";

/** Three test files that fail three ways JUnit XML cannot describe all of: an error, an import error, a segfault. */
const TEST_FILES: Record<string, string> = {
  "test_crashy.py": [
    "import unittest",
    "class T(unittest.TestCase):",
    "    def test_fine(self):",
    "        pass",
    "    def test_boom(self):",
    "        def inner():",
    "            raise ValueError('boom at depth')",
    "        inner()",
    "",
  ].join("\n"),
  "test_importfail.py": "import no_such_module_here\n",
  "test_segv.py": [
    "import ctypes, unittest",
    "class T(unittest.TestCase):",
    "    def test_segv(self):",
    "        ctypes.string_at(0)",
    "",
  ].join("\n"),
  "test_quiet.py": [
    "import traceback, unittest",
    "class T(unittest.TestCase):",
    "    def test_prints_an_expected_traceback(self):",
    "        try:",
    "            raise KeyError('expected')",
    "        except KeyError:",
    "            traceback.print_exc()",
    "",
  ].join("\n"),
};

/**
 * Real regrtest output, read line by line as the agent reads it: unbuffered, stdout and stderr
 * in the order they were written (one file here, two pipes read as they arrive in the agent).
 */
function timelineOf(python: string, dir: string, args: string[]): { records: TestRecord[]; output: string } {
  const outputFile = join(dir, `output${args.join("")}.txt`);
  const fd = openSync(outputFile, "w");
  const tests = Object.keys(TEST_FILES).map((file) => file.replace(/\.py$/, ""));
  spawnSync(python, ["-X", "faulthandler", "-m", "test", "--testdir", dir, ...args, ...tests], {
    stdio: ["ignore", fd, fd],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
    timeout: 120_000,
  });
  closeSync(fd);
  const output = readFileSync(outputFile, "utf8");
  const timeline = new TestTimeline({ sequential: !args.some((arg) => arg.startsWith("-j")), window: null });
  const reader = new RegrtestOutputReader();
  const records: TestRecord[] = [];
  for (const line of output.split("\n")) {
    timeline.read(line);
    reader.read(line);
    records.push(...timeline.takeCompleted());
  }
  records.push(...timeline.finish(reader.get()));
  return { records, output };
}

const latest = (records: TestRecord[], kind: string, name: string) =>
  records.filter((record) => record.kind === kind && record.name === name).at(-1);

describe("tracebacks of failed and crashed tests, from real regrtest output", () => {
  let python: string;
  let dir: string;
  before(() => {
    python = findTestPython();
    dir = mkdtempSync(join(tmpdir(), "memfarm-tracebacks-"));
    for (const [name, text] of Object.entries(TEST_FILES)) writeFileSync(join(dir, name), text);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("gives each failing test its traceback under -j, where the output follows the result line", () => {
    const { records, output } = timelineOf(python, dir, ["-j2"]);
    const importFail = latest(records, "file", "test_importfail");
    assert.equal(importFail?.outcome, "failed", output);
    assert.match(importFail?.detail ?? "", /^Traceback \(most recent call last\):\n/);
    assert.match(importFail?.detail ?? "", /ModuleNotFoundError: No module named 'no_such_module_here'$/);
    const crashy = latest(records, "file", "test_crashy");
    assert.match(crashy?.detail ?? "", /raise ValueError\('boom at depth'\)\nValueError: boom at depth$/);
    assert.doesNotMatch(crashy?.detail ?? "", /no_such_module_here/, "each file gets its own");
    const segv = latest(records, "file", "test_segv");
    assert.equal(segv?.outcome, "error", output);
    assert.match(segv?.detail ?? "", /^Fatal Python error: Segmentation fault/);
    assert.match(segv?.detail ?? "", /test_segv\.py", line 4 in test_segv/);
    const quiet = latest(records, "file", "test_quiet");
    assert.equal(quiet?.outcome, "passed", output);
    assert.equal(quiet?.detail, null, "a passing file's printed traceback is not its detail");
  });

  it("gives a verbose sequential run's failing case its traceback and a crashed file faulthandler's stack", () => {
    // Sequentially the segfault kills regrtest itself: test_segv runs last (alphabetical order).
    const { records, output } = timelineOf(python, dir, ["-v"]);
    const boom = latest(records, "case", "test_crashy.T.test_boom");
    assert.equal(boom?.outcome, "error", output);
    assert.match(
      boom?.detail ?? "",
      /^Traceback \(most recent call last\):\n[\s\S]*ValueError: boom at depth$/,
    );
    assert.equal(latest(records, "case", "test_crashy.T.test_fine")?.detail, null);
    const importFail = latest(records, "file", "test_importfail");
    assert.match(importFail?.detail ?? "", /ModuleNotFoundError: No module named 'no_such_module_here'$/);
    const segv = latest(records, "file", "test_segv");
    assert.notEqual(segv?.outcome, "passed", "a file that killed the interpreter did not pass");
    assert.match(segv?.detail ?? "", /^Fatal Python error: Segmentation fault\n[\s\S]*in test_segv/);
  });
});
