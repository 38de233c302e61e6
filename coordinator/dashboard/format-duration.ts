/**
 * A duration as people read it: 4.2 s, 3 min 5 s, 2 h 10 min. It rounds to the precision it
 * shows before it splits into units, so 359.6 s reads "6 min 0 s", never "5 min 60 s", and
 * 59.96 s reads "1 min 0 s", never "60.0 s".
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "-";
  const tenths = Math.round(Math.max(0, seconds) * 10);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
