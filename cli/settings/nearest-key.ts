/** Edits (insert, delete, substitute) between two strings: Levenshtein's distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

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
      distance(lower, key.toLowerCase()),
      keyName === name ? 1 : Number.POSITIVE_INFINITY,
    );
    if (best === null || score < best.score) best = { key, score };
  }
  if (best === null) return null;
  // Two edits (a swap: prot) or a third of the name, whichever is more.
  return best.score <= Math.max(2, Math.floor(name.length / 3)) ? best.key : null;
}
