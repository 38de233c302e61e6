import { PEAK_MEASURES, type PeakMeasure } from "./messages.ts";

/** What the tests table (page and CLI) shows for each way of measuring a test's peak: short, then why. */
const TEXTS: Record<PeakMeasure, { short: string; long: string }> = {
  cgroup: {
    short: "cgroup",
    long: "the job cgroup's high-water mark, reset at the test's start: every process, children that exited, tmpfs and shared memory",
  },
  "worker-cgroup": {
    short: "worker cgroup",
    long: "the high-water mark of the regrtest worker's own cgroup: every process, children that exited, tmpfs and shared memory",
  },
  "process-tree": {
    short: "processes",
    long: "the largest peak RSS of the processes alive at the test's end: children that exited, tmpfs and shared memory are not counted",
  },
  "process-tree-no-shm": {
    short: "processes, no shm",
    long: "no cgroup (watchdog): the largest peak RSS of the processes alive at the test's end; tmpfs, /dev/shm and children that exited are unmeasured",
  },
  regrtest: {
    short: "regrtest",
    long: "regrtest's own mem: figure (its worker's RSS); children, tmpfs and shared memory are not counted",
  },
};

function known(measure: string | null | undefined): measure is PeakMeasure {
  return measure != null && (PEAK_MEASURES as readonly string[]).includes(measure);
}

/** A few words for a table cell; "-" when the agent did not say. */
export function peakMeasureShort(measure: string | null | undefined): string {
  return known(measure) ? TEXTS[measure].short : "-";
}

/** A sentence for a title or footnote: what the figure counts and what it misses. */
export function peakMeasureLong(measure: string | null | undefined): string {
  return known(measure) ? TEXTS[measure].long : "not said (an older agent)";
}
