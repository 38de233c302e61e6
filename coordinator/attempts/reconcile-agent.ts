import type { JobsStore } from "../store/jobs-store.ts";
import type { Transitions } from "./transitions.ts";

/**
 * An assignment reply and a heartbeat can cross: a heartbeat sent just before the agent took an
 * attempt does not name it yet. An attempt younger than this is never counted as missing.
 */
const ASSIGNMENT_GRACE_MS = 10_000;

export interface AgentReport {
  agent: string;
  /** Attempts the agent runs now. */
  running: string[];
  /** Attempts that ended there and whose results are on their way through the reports stream. */
  finished: string[];
}

/**
 * Compares what an agent says it runs (register, heartbeat) with what the store has it run.
 * - An attempt the store has on this agent that the agent neither runs nor finished is lost (the
 *   agent restarted, or never got it): the job is requeued within its attempt budget.
 * - An attempt the agent runs that is not its current one in the store (requeued elsewhere after
 *   the agent was declared lost, canceled meanwhile) is returned: the agent must stop it.
 */
export function reconcileAgent(
  jobs: JobsStore,
  transitions: Transitions,
  report: AgentReport,
  options: { maxAttempts: number; nowMs: number },
): string[] {
  const reported = new Set([...report.running, ...report.finished]);
  const active = jobs.activeAttemptsOf(report.agent);
  for (const attempt of active) {
    if (reported.has(attempt.attemptId)) continue;
    if (options.nowMs - Date.parse(attempt.assignedAt) < ASSIGNMENT_GRACE_MS) continue;
    const reason = `agent ${report.agent} no longer runs it (the agent restarted or never started it)`;
    transitions.loseAttempt(attempt.attemptId, options.maxAttempts, reason);
  }
  const owned = new Set(active.map((attempt) => attempt.attemptId));
  return report.running.filter((attemptId) => !owned.has(attemptId));
}
