import { editDistance } from "../../protocol/edit-distance.ts";

/**
 * The known key a mistyped one most likely meant, or null when none is close: a typo
 * (coordinator.prot), a wrong case (coordinator.dataDIR), or the right name in the wrong place
 * (port at the top, agent.lostAfter).
 */
export function nearestKey(unknown: string, known: readonly string[]): string | null {
  const lower = unknown.toLowerCase();
  const name = lower.slice(lower.lastIndexOf(".") + 1);
  let best: { key: string; score: number } | null = null;
  for (const key of known) {
    const keyName = key.slice(key.lastIndexOf(".") + 1).toLowerCase();
    // The same name in another section is as good as one typo.
    const score = Math.min(
      editDistance(lower, key.toLowerCase()),
      keyName === name ? 1 : Number.POSITIVE_INFINITY,
    );
    if (best === null || score < best.score) best = { key, score };
  }
  if (best === null) return null;
  // Two edits (a swap: prot) or a third of the name, whichever is more.
  return best.score <= Math.max(2, Math.floor(name.length / 3)) ? best.key : null;
}
