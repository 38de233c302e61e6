import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePrCommand } from "../../../coordinator/github/pr-command.ts";

const SUITES = ["bigmem", "bigmem-smoke", "refleak"];

describe("reading a !memfarm comment", () => {
  it("reads suites, sizes and tests from the first line only", () => {
    assert.deepEqual(parsePrCommand("!memfarm bigmem --memlimit 60g\nthanks", SUITES), {
      kind: "run",
      suite: "bigmem",
      memlimit: "60g",
      tests: [],
    });
    assert.deepEqual(parsePrCommand("!memfarm bigmem-smoke --tests=test_bigmem,test_array", SUITES), {
      kind: "run",
      suite: "bigmem-smoke",
      memlimit: null,
      tests: ["test_bigmem", "test_array"],
    });
    assert.deepEqual(parsePrCommand("!memfarm cancel", SUITES), { kind: "cancel" });
    assert.deepEqual(parsePrCommand("!memfarm", SUITES), { kind: "help" });
  });

  it("ignores comments that are not addressed to memfarm", () => {
    assert.equal(parsePrCommand("LGTM\n!memfarm bigmem", SUITES), null);
    assert.equal(parsePrCommand("!buildbot bigmem", SUITES), null);
  });

  it("says what is wrong instead of passing words on", () => {
    const problems = [
      "!memfarm bigmem --memlimit 60g; rm -rf /",
      "!memfarm bigmem --tests ../../etc/passwd",
      "!memfarm bigmem -uall",
      "!memfarm bigmem --memlimit 12Q",
      "!memfarm ../bigmem",
      "!memfarm cancel everything",
    ];
    for (const text of problems) assert.equal(parsePrCommand(text, SUITES)?.kind, "invalid", text);
  });
});
