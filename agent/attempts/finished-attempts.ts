/** How long a delivered result is still named in heartbeats: long enough for the coordinator to apply it. */
const KEEP_DELIVERED_MS = 120_000;

/**
 * Attempts that ended on this agent and whose results are on their way to the coordinator, or
 * arrived in the stream a short while ago. Heartbeats name them so that the coordinator, which
 * applies results from the stream a moment later, does not mistake them for lost attempts.
 */
export class FinishedAttempts {
  private readonly inFlight = new Set<string>();
  private readonly deliveredAt = new Map<string, number>();

  delivering(attemptId: string): void {
    this.inFlight.add(attemptId);
  }

  delivered(attemptId: string, nowMs = Date.now()): void {
    this.inFlight.delete(attemptId);
    this.deliveredAt.set(attemptId, nowMs);
  }

  list(nowMs = Date.now()): string[] {
    for (const [attemptId, at] of this.deliveredAt) {
      if (nowMs - at > KEEP_DELIVERED_MS) this.deliveredAt.delete(attemptId);
    }
    return [...new Set([...this.inFlight, ...this.deliveredAt.keys()])];
  }
}
