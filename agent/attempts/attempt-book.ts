import type { AgentAttempt } from "./agent-attempt.ts";
import { RanAttempts } from "./ran-attempts.ts";

/**
 * The attempts of this agent process, one record each (see AgentAttempt), and the ids of every
 * attempt that ran here: an assignment for one of those again is a replay. A record is dropped
 * once it is over and the coordinator has had time to apply its result.
 */
export class AttemptBook {
  private readonly records = new Map<string, AgentAttempt>();
  private readonly ran = new RanAttempts();

  add(attempt: AgentAttempt): void {
    this.records.set(attempt.attemptId, attempt);
    this.ran.add(attempt.attemptId);
    void attempt.settled.finally(() => this.prune());
  }

  /** An attempt id from an earlier process's journal with nothing left to send. */
  remember(attemptId: string): void {
    this.ran.add(attemptId);
  }

  get(attemptId: string): AgentAttempt | undefined {
    return this.records.get(attemptId);
  }

  hasRun(attemptId: string): boolean {
    return this.ran.has(attemptId);
  }

  /** Attempts whose trees run here now. */
  running(): AgentAttempt[] {
    return [...this.records.values()].filter((attempt) => attempt.isRunning);
  }

  /** Attempts that ended here and whose results are on their way or were just delivered: not lost. */
  finished(nowMs = Date.now()): string[] {
    this.prune(nowMs);
    return [...this.records.values()]
      .filter((attempt) => attempt.isFinished(nowMs))
      .map((attempt) => attempt.attemptId);
  }

  all(): AgentAttempt[] {
    return [...this.records.values()];
  }

  /** Whether every attempt is over here within `ms`. */
  async settled(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const settled = Promise.all(this.all().map((attempt) => attempt.settled)).then(() => true as const);
    try {
      return await Promise.race([settled, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private prune(nowMs = Date.now()): void {
    for (const [attemptId, attempt] of this.records) {
      if (attempt.isOver && !attempt.isFinished(nowMs)) this.records.delete(attemptId);
    }
  }
}
