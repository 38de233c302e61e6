import type { BisectionProbe } from "../../protocol/resources.ts";

/** What a bisection does next, decided from the probes run so far (see `nextStep`). */
export type BisectionStep =
  | { kind: "wait" }
  | { kind: "probe"; commits: string[] }
  | { kind: "confirm"; good: string; bad: string }
  | { kind: "found"; culprit: string; lastGood: string; culpritRange: string[] | null }
  | { kind: "flaky"; good: string; bad: string; side: "good" | "bad" | "both" };

export interface BisectionState {
  /** The last good commit the watch saw; not part of `range`. */
  good: string;
  /** First-parent order, oldest first; the last one is the first bad commit the watch saw. */
  range: string[];
  probes: Pick<BisectionProbe, "sha" | "purpose" | "verdict">[];
  /** How many probes one round may run at once (the free hosts); at least 1. */
  width: number;
}

/**
 * The next step of a k-ary bisection, as `git bisect` would take it with `width` probes at once:
 * while commits inside the boundary are untested, probe `width` of them spread evenly (a round
 * narrows the range to about 1/(width+1)); a commit that did not build is skipped and its
 * neighbours are tried instead; once no commit is left between the last good and the first bad,
 * both sides are run once more, and only if each says the same again is the culprit named — so a
 * flaky result is not blamed on a commit. A pure function of the probes: a restarted coordinator
 * decides the same.
 */
export function nextStep(state: BisectionState): BisectionStep {
  const { good, range, probes } = state;
  if (probes.some((probe) => probe.verdict === null)) return { kind: "wait" };
  const searched = new Map<string, BisectionProbe["verdict"]>();
  for (const probe of probes) if (probe.purpose === "probe") searched.set(probe.sha, probe.verdict);
  const bad = firstIndex(range, (sha) => searched.get(sha) === "bad") ?? range.length - 1;
  let lastGood = -1;
  for (let index = bad - 1; index >= 0; index--) {
    if (searched.get(range[index] as string) === "good") {
      lastGood = index;
      break;
    }
  }
  const candidates: number[] = [];
  for (let index = lastGood + 1; index < bad; index++) {
    if (!searched.has(range[index] as string)) candidates.push(index);
  }
  if (candidates.length > 0) {
    return { kind: "probe", commits: spread(candidates, state.width).map((index) => range[index] as string) };
  }
  const goodSha = lastGood === -1 ? good : (range[lastGood] as string);
  const badSha = range[bad] as string;
  const confirmations = probes.filter((probe) => probe.purpose === "confirm");
  if (confirmations.length === 0) return { kind: "confirm", good: goodSha, bad: badSha };
  const goodAgain = confirmations.find((probe) => probe.sha === goodSha)?.verdict;
  const badAgain = confirmations.find((probe) => probe.sha === badSha)?.verdict;
  // A side that did not build on its rerun says nothing against the boundary.
  const goodHolds = goodAgain !== "bad";
  const badHolds = badAgain !== "good";
  if (!goodHolds || !badHolds) {
    return {
      kind: "flaky",
      good: goodSha,
      bad: badSha,
      side: !goodHolds && !badHolds ? "both" : goodHolds ? "bad" : "good",
    };
  }
  const skipped = range.slice(lastGood + 1, bad).length > 0;
  return {
    kind: "found",
    culprit: badSha,
    lastGood: goodSha,
    culpritRange: skipped ? range.slice(lastGood + 1, bad + 1) : null,
  };
}

/** The most probe rounds a range of `size` commits may take with one probe per round (the bound). */
export function roundBound(size: number): number {
  return Math.ceil(Math.log2(Math.max(size, 1))) + 2;
}

/** `width` of the candidates (ascending indices), at the 1/(width+1), 2/(width+1), … points. */
function spread(candidates: number[], width: number): number[] {
  const count = Math.min(Math.max(1, width), candidates.length);
  const picked = new Set<number>();
  for (let part = 1; part <= count; part++) {
    picked.add(candidates[Math.floor((part * candidates.length) / (count + 1))] as number);
  }
  return [...picked];
}

function firstIndex(range: string[], test: (sha: string) => boolean): number | null {
  const index = range.findIndex(test);
  return index === -1 ? null : index;
}
