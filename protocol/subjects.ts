/**
 * NATS subjects between coordinator and agents. Agent names are checked by checkAgentName before
 * they become a subject token. Every subject an agent publishes on carries its own name, so NATS
 * permissions can keep an agent from speaking as another agent or as the coordinator
 * (agentPermissions below), and the coordinator checks that the name in a message body matches the
 * subject it came on.
 */
export const Subjects = {
  /** agent → coordinator, request: an agent joins (or rejoins) the farm. */
  register: (agent: string) => `memfarm.agents.${agent}.register`,
  /** agent → coordinator, request: liveness, current use and the attempts it runs. */
  heartbeat: (agent: string) => `memfarm.agents.${agent}.heartbeat`,
  /** agent → coordinator, request: an attempt stopped because the agent shuts down; run the job elsewhere. */
  handBack: (agent: string) => `memfarm.agents.${agent}.hand-back`,
  /**
   * agent → coordinator, JetStream (stream REPORTS_STREAM): progress (log lines, samples, tests)
   * and results of attempts, in order, each with a message id so a republish is dropped.
   */
  reports: (agent: string) => `memfarm.reports.${agent}`,
  anyReports: "memfarm.reports.*",
  /** coordinator → one agent, request: run this attempt. */
  assign: (agent: string) => `memfarm.agent.${agent}.assign`,
  /** coordinator → one agent, request: stop this attempt. */
  cancel: (agent: string) => `memfarm.agent.${agent}.cancel`,
  /** coordinator → one agent, request: is this interpreter usable here? */
  probePython: (agent: string) => `memfarm.agent.${agent}.probe-python`,
} as const;

/** The JetStream stream that carries reports; its consumer is the coordinator's. */
export const REPORTS_STREAM = "MEMFARM_REPORTS";
export const REPORTS_CONSUMER = "coordinator";

/** Each agent's own reply inbox prefix: another agent may not subscribe to its replies. */
export function inboxPrefixFor(agent: string): string {
  return `_INBOX_${agent}`;
}

/** The subject name of the agent (checked) that published on `subject`, or null if none. */
export function agentOfSubject(subject: string): string | null {
  const tokens = subject.split(".");
  if (tokens[0] !== "memfarm" || (tokens[1] !== "agents" && tokens[1] !== "reports")) return null;
  return tokens[2] ?? null;
}

/**
 * What one agent may do on NATS: publish only as itself (register, heartbeat, its reports, and
 * replies to requests sent to it), subscribe only to its own requests and its own inbox. JetStream
 * publishes are acknowledged through the inbox, so no JetStream API access is needed.
 */
export function agentPermissions(agent: string): {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  allowResponses: boolean;
} {
  return {
    publish: { allow: [`memfarm.agents.${agent}.>`, Subjects.reports(agent)] },
    subscribe: { allow: [`memfarm.agent.${agent}.>`, `${inboxPrefixFor(agent)}.>`] },
    allowResponses: true,
  };
}

/** Largest message either side accepts; nats-server's default max_payload is 1 MiB. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
