/** Label matching: an agent serves a job when it carries every one of the job's labels. */

export function hasLabels(carried: Record<string, string>, wanted: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(wanted)) {
    if (carried[key] !== value) return false;
  }
  return true;
}

function sortedEntries(labels: Record<string, string>): [string, string][] {
  const entries = Object.entries(labels);
  return entries.length < 2 ? entries : entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The same key for the same set of labels, whatever their order (JSON, so no separator can collide). */
export function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(sortedEntries(labels));
}

/** `arch=aarch64, pool=bigmem`, for reasons people read. */
export function formatLabels(labels: Record<string, string>): string {
  return sortedEntries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
}
