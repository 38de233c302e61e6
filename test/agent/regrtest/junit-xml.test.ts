import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { junitXmlPath, parseJunitXml } from "../../../agent/regrtest/junit-xml.ts";
import { TestTimeline } from "../../../agent/regrtest/test-timeline.ts";

// Written by CPython 3.11.2's regrtest (--junit-xml) for a failing, a passing and a skipped test.
const XML = `<testsuites tests="4" errors="0" failures="1"><testsuite start="2026-11-24 09:53:22.283448" tests="3" errors="0" failures="1"><testcase name="test_failing.T.test_bad" status="run" result="completed" time="0.000985"><system-out /><system-err /><failure type="AssertionError" message="AssertionError: 1 != 2&#10;">Traceback (most recent call last):
  File "/tmp/td/test_failing.py", line 4, in test_bad
    def test_bad(self): self.assertEqual(1, 2)
AssertionError: 1 != 2
</failure></testcase><testcase name="test_failing.T.test_ok" status="run" result="completed" time="0.000017" /><testcase name="test_failing.T.test_skip" status="run" result="completed" time="0.000004"><skipped>nope &amp; never</skipped></testcase></testsuite><testsuite start="2026-11-24 09:53:22.301967" tests="1" errors="0" failures="0"><testcase name="test_fine.T.test_ok" status="run" result="completed" time="0.000024" /></testsuite></testsuites>`;

describe("JUnit XML", () => {
  it("reads outcomes, durations, tracebacks and skip reasons", () => {
    const cases = parseJunitXml(XML);
    assert.deepEqual(
      cases.map((entry) => [entry.name, entry.outcome]),
      [
        ["test_failing.T.test_bad", "failed"],
        ["test_failing.T.test_ok", "passed"],
        ["test_failing.T.test_skip", "skipped"],
        ["test_fine.T.test_ok", "passed"],
      ],
    );
    assert.match(cases[0]?.detail ?? "", /^Traceback[\s\S]*AssertionError: 1 != 2$/);
    assert.equal(cases[0]?.durationSeconds, 0.000985);
    assert.equal(cases[2]?.detail, "nope & never");
  });

  it("finds the file in regrtest's arguments", () => {
    assert.equal(junitXmlPath(["-m", "test", "--junit-xml", "out.xml"]), "out.xml");
    assert.equal(junitXmlPath(["--junit-xml=x.xml"]), "x.xml");
    assert.equal(junitXmlPath(["-m", "test"]), null);
  });

  it("adds tracebacks and missing durations to what the log gave, keeping the log's peaks", () => {
    const timeline = new TestTimeline({ sequential: false, window: null });
    timeline.read("test_bad (test_failing.T.test_bad) ... FAIL");
    timeline.takeCompleted();
    const changed = timeline.enrich(parseJunitXml(XML));
    const bad = changed.find((record) => record.name === "test_failing.T.test_bad");
    assert.equal(bad?.outcome, "failed");
    assert.match(bad?.detail ?? "", /AssertionError: 1 != 2/);
    assert.equal(bad?.durationSeconds, 0.000985);
    assert.ok(changed.some((record) => record.name === "test_fine.T.test_ok" && record.outcome === "passed"));
  });
});
