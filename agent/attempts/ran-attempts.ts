/** Enough for weeks of jobs on one host; the oldest ids are forgotten first. */
const REMEMBERED = 10_000;

/**
 * Attempt ids this agent process has run (or found in its outbox from an earlier run). The
 * coordinator never assigns an attempt id twice, so an assignment for one of these is a replay:
 * running it again would repeat a finished job, and its reports would carry message ids the
 * stream has already seen.
 */
export class RanAttempts {
  private readonly ids = new Set<string>();

  add(attemptId: string): void {
    this.ids.add(attemptId);
    if (this.ids.size > REMEMBERED) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  has(attemptId: string): boolean {
    return this.ids.has(attemptId);
  }
}
