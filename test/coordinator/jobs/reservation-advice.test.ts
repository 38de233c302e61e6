import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nearestName } from "../../../coordinator/jobs/nearest-name.ts";
import { reservationAdvice } from "../../../coordinator/jobs/reservation-advice.ts";
import { loadSuites, reservationFor, type Suite } from "../../../coordinator/jobs/suites.ts";
import { DEFAULT_JOBS_DIR } from "../../../coordinator/paths.ts";
import { AgentState } from "../../../protocol/job-status.ts";

const GiB = 1024 ** 3;
const suites = loadSuites(DEFAULT_JOBS_DIR);
const suite = (name: string) => suites.get(name) as Suite;
const agent = (name: string, capacityGiB: number, labels: Record<string, string> = {}) => ({
  name,
  state: AgentState.online,
  capacityBytes: capacityGiB * GiB,
  labels,
});

describe("advice for a job too big for every agent", () => {
  it("suggests the most workers that fit the largest agent with the job's labels", () => {
    const advice = reservationAdvice(
      { suite: suite("refleak"), memlimitBytes: null, workers: 4, labels: { arch: "aarch64" } },
      [
        agent("big-x86", 100, { arch: "x86_64" }),
        agent("arm-a", 11, { arch: "aarch64" }),
        agent("arm-b", 7, { arch: "aarch64" }),
      ],
    );
    assert.equal(advice, "ask for fewer workers with --workers 2 (needs 10.0 GiB, which fits arm-a)");
    assert.ok(reservationFor(suite("refleak"), null, 2) <= 11 * GiB);
  });

  it("suggests a memlimit that fits when even one worker does not, and regrtest accepts it", () => {
    const advice = reservationAdvice(
      { suite: suite("bigmem"), memlimitBytes: 60 * GiB, workers: 1, labels: {} },
      [agent("a", 30)],
    );
    assert.equal(advice, "ask for a smaller memory limit with --memlimit 26G (needs 30.0 GiB, which fits a)");
  });

  it("asks for a bigger agent when no smaller request would fit", () => {
    const advice = reservationAdvice(
      { suite: suite("bigmem-smoke"), memlimitBytes: 2 * GiB, workers: 1, labels: {} },
      [agent("small", 2)],
    );
    assert.equal(
      advice,
      "add an agent with at least 2.5 GiB of capacity (memfarm hosts add); the largest is small",
    );
  });

  it("gives none when no registered agent has the labels (the refusal says that already)", () => {
    const lost = { ...agent("gone", 500), state: AgentState.lost };
    assert.equal(
      reservationAdvice({ suite: suite("refleak"), memlimitBytes: null, workers: 4, labels: {} }, [lost]),
      null,
    );
  });
});

describe("the nearest known test name", () => {
  it("is the one fewest edits away", () => {
    assert.equal(nearestName("test_bigmen", ["test_bigmem", "test_bisect", "test_big"]), "test_bigmem");
    assert.equal(nearestName("test_lis", ["test_list", "test_set"]), "test_list");
    assert.equal(nearestName("anything", []), null);
  });
});
