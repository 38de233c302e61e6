import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BisectionState, nextStep, roundBound } from "../../../coordinator/watches/bisection-plan.ts";

type Verdict = "good" | "bad" | "skip";

/**
 * Runs a whole bisection against a model of the range: `truth(index)` is what a probe of the
 * commit at that index says (index -1 is the last good commit). Returns the end and the rounds.
 */
function bisect(size: number, width: number, truth: (index: number, runs: number) => Verdict) {
  const range = Array.from({ length: size }, (_, index) => `c${index}`);
  const state: BisectionState = { good: "good", range, probes: [], width };
  const runs = new Map<string, number>();
  const say = (sha: string): Verdict => {
    const count = (runs.get(sha) ?? 0) + 1;
    runs.set(sha, count);
    return truth(sha === "good" ? -1 : range.indexOf(sha), count);
  };
  for (let rounds = 1; rounds <= 50; rounds++) {
    const step = nextStep(state);
    if (step.kind === "probe") {
      assert.ok(step.commits.length <= width, "no more probes than free hosts");
      for (const sha of step.commits) state.probes.push({ sha, purpose: "probe", verdict: say(sha) });
    } else if (step.kind === "confirm") {
      state.probes.push({ sha: step.good, purpose: "confirm", verdict: say(step.good) });
      state.probes.push({ sha: step.bad, purpose: "confirm", verdict: say(step.bad) });
    } else {
      return { step, rounds: rounds - 1, range };
    }
  }
  throw new Error("the bisection did not end");
}

describe("bisection planning", () => {
  it("names every possible culprit of a 63-commit range within ceil(log2(range)) + 1 rounds, one probe at a time", () => {
    for (let culprit = 0; culprit < 63; culprit++) {
      const { step, rounds, range } = bisect(63, 1, (index) => (index >= culprit ? "bad" : "good"));
      assert.equal(step.kind, "found");
      assert.equal(step.kind === "found" && step.culprit, range[culprit]);
      assert.ok(rounds <= roundBound(63) - 1, `culprit ${culprit}: ${rounds} rounds`);
    }
  });

  it("takes fewer rounds with more probes at once", () => {
    const rounds = [1, 2, 4].map(
      (width) => bisect(63, width, (index) => (index >= 40 ? "bad" : "good")).rounds,
    );
    assert.ok((rounds[1] as number) < (rounds[0] as number), `${rounds}`);
    assert.ok((rounds[2] as number) < (rounds[1] as number), `${rounds}`);
  });

  it("skips a commit that does not build, and still names the culprit within the bound", () => {
    for (const broken of [10, 30, 31, 41]) {
      const { step, rounds, range } = bisect(63, 1, (index) =>
        index === broken ? "skip" : index >= 40 ? "bad" : "good",
      );
      assert.equal(step.kind === "found" && step.culprit, range[40], `broken ${broken}`);
      assert.equal(step.kind === "found" && step.culpritRange, null);
      assert.ok(rounds <= roundBound(63), `broken ${broken}: ${rounds} rounds`);
    }
  });

  it("names every commit the culprit may be when the one before it does not build", () => {
    const { step, range } = bisect(16, 1, (index) => (index === 7 ? "skip" : index >= 8 ? "bad" : "good"));
    assert.equal(step.kind, "found");
    assert.deepEqual(step.kind === "found" && step.culpritRange, [range[7], range[8]]);
  });

  it("blames no commit when the bad side passes on its rerun (a flaky test)", () => {
    // The watch saw the test fail once at the last commit; every run after that passes.
    const { step } = bisect(20, 1, () => "good");
    assert.equal(step.kind, "flaky");
    assert.equal(step.kind === "flaky" && step.side, "bad");
  });

  it("confirms a one-commit range without probing inside it", () => {
    const { step, rounds } = bisect(1, 4, (index) => (index >= 0 ? "bad" : "good"));
    assert.equal(step.kind === "found" && step.culprit, "c0");
    assert.equal(rounds, 1);
  });

  it("waits while a probe runs", () => {
    assert.deepEqual(
      nextStep({
        good: "g",
        range: ["a", "b"],
        probes: [{ sha: "a", purpose: "probe", verdict: null }],
        width: 1,
      }),
      { kind: "wait" },
    );
  });
});
