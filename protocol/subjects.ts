/**
 * NATS subjects between coordinator and agents. Agent names are checked by
 * checkAgentName before they become a subject token.
 */
export const Subjects = {
  /** agent → coordinator, request: an agent joins (or rejoins) the farm. */
  register: "memfarm.agents.register",
  /** agent → coordinator, publish: liveness and current use, every few seconds. */
  heartbeat: "memfarm.agents.heartbeat",
  /** agent → coordinator, request: log lines and samples of a running attempt, acknowledged. */
  progress: "memfarm.attempts.progress",
  /** agent → coordinator, request: the final result of an attempt, acknowledged. */
  result: "memfarm.attempts.result",
  /** coordinator → one agent, request: run this attempt. */
  assign: (agent: string) => `memfarm.agent.${agent}.assign`,
  /** coordinator → one agent, request: stop this attempt. */
  cancel: (agent: string) => `memfarm.agent.${agent}.cancel`,
  /** coordinator → one agent, request: is this interpreter usable here? */
  probePython: (agent: string) => `memfarm.agent.${agent}.probe-python`,
} as const;

/** Largest message either side accepts; nats-server's default max_payload is 1 MiB. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
