/**
 * An attempt id names its job and its number within the job: `12-3` is the third attempt of job
 * 12. It is the only id that travels between the coordinator and an agent.
 */
export function attemptIdFor(jobId: number, number: number): string {
  return `${jobId}-${number}`;
}

/** The job an attempt id belongs to, as its text (`12` of `12-3`): for an agent's logs and messages. */
export function jobOfAttempt(attemptId: string): string {
  const dash = attemptId.lastIndexOf("-");
  return dash > 0 ? attemptId.slice(0, dash) : attemptId;
}
