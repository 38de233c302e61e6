import { type NatsConnection, RequestError, type Subscription } from "@nats-io/transport-node";
import { Endpoints } from "../../protocol/endpoints.ts";
import { coerceError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type {
  Assignment,
  AssignReply,
  Heartbeat,
  HeartbeatReply,
  ProbePythonReply,
  RegisterReply,
  RegisterRequest,
} from "../../protocol/messages.ts";
import { callEndpoint, serveEndpoint } from "../../protocol/nats-endpoint.ts";
import {
  describeVersion,
  type SpokenVersion,
  spokenVersionOf,
  versionFields,
} from "../../protocol/protocol-version.ts";
import { reconcileAgent } from "../attempts/reconcile-agent.ts";
import type { Transitions } from "../attempts/transitions.ts";
import type { Store } from "../store/store.ts";
import { acceptsAgentVersion, checkAgentVersion } from "./agent-versions.ts";

/** An agent's answer to an assignment, or why there was none. */
export type AssignOutcome = AssignReply & { unreachable: boolean };

export interface AgentLinkOptions {
  heartbeatIntervalMs: number;
  /** Memory kept back on every host for the OS and the agent. */
  headroomFor: (memoryBytes: number) => number;
  maxAttempts: number;
  /** Called when something happened that may let a waiting job start. */
  onCapacityChanged: () => void;
  /** Each heartbeat's figures of the agent process itself, for /metrics. */
  onAgentFigures?: (agent: string, figures: Heartbeat["self"]) => void;
  /** What this coordinator says it is, and judges agents' versions against (agent-versions.ts). */
  version: SpokenVersion;
}

const ASSIGN_TIMEOUT_MS = 5000;
const PROBE_TIMEOUT_MS = 25_000;
/** A queue group lets a second coordinator process share the load safely later. */
export const COORDINATOR_QUEUE = "memfarm-coordinator";

/**
 * The coordinator's side of core NATS: answers agents (register, heartbeat) and sends them work
 * (assign, cancel, probe). Progress and results come through the reports stream
 * (report-stream.ts), hand-backs through hand-backs.ts. Every message is validated by the
 * endpoint helper; a bad one is answered with an error and logged, and changes nothing.
 */
export class AgentLink {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly store: Store,
    private readonly transitions: Transitions,
    private readonly log: Logger,
    private readonly options: AgentLinkOptions,
  ) {}

  start(): void {
    this.turnAwayStoredAgents();
    const served = { queue: COORDINATOR_QUEUE, log: this.log };
    this.subscriptions.push(
      serveEndpoint(this.nc, Endpoints.register, {
        ...served,
        subject: Endpoints.register.subject("*"),
        handle: (request) => this.onRegister(request),
      }),
      serveEndpoint(this.nc, Endpoints.heartbeat, {
        ...served,
        subject: Endpoints.heartbeat.subject("*"),
        handle: (beat) => this.onHeartbeat(beat),
      }),
    );
  }

  stop(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  async assign(agent: string, assignment: Assignment): Promise<AssignOutcome> {
    try {
      const reply = await callEndpoint(this.nc, Endpoints.assign, agent, assignment, ASSIGN_TIMEOUT_MS);
      return { ...reply, unreachable: false };
    } catch (thrown) {
      // "No responders": nothing listens on the agent's subject, so the agent is gone (killed, or
      // its host is down), not slow. A timeout may be a slow agent: that one keeps its place.
      const unreachable = thrown instanceof RequestError && thrown.isNoResponders();
      const reason = `agent ${agent} did not answer: ${coerceError(thrown).message}`;
      return { accepted: false, reason, unreachable };
    }
  }

  /** Asks an agent to stop an attempt; false if the agent could not be reached. */
  async cancel(agent: string, attemptId: string): Promise<boolean> {
    try {
      await callEndpoint(this.nc, Endpoints.cancel, agent, { attemptId }, ASSIGN_TIMEOUT_MS);
      return true;
    } catch (thrown) {
      this.log.warn("could not reach the agent to cancel", {
        agent,
        attempt: attemptId,
        error: coerceError(thrown).message,
      });
      return false;
    }
  }

  /** Asks each agent whether it can run `python`; agents that do not answer are left out. */
  async probePython(agents: string[], python: string): Promise<Map<string, ProbePythonReply>> {
    const replies = await Promise.allSettled(
      agents.map(async (agent) => {
        const reply = await callEndpoint(this.nc, Endpoints.probePython, agent, { python }, PROBE_TIMEOUT_MS);
        return [agent, reply] as const;
      }),
    );
    return new Map(replies.flatMap((reply) => (reply.status === "fulfilled" ? [reply.value] : [])));
  }

  private onRegister(request: RegisterRequest): RegisterReply {
    const version = spokenVersionOf(request);
    // A refusal throws: the endpoint helper logs it here and answers the agent with its words.
    checkAgentVersion(request.name, version, this.options.version);
    const capacity = Math.max(
      0,
      request.facts.memoryBytes - this.options.headroomFor(request.facts.memoryBytes),
    );
    this.store.agents.register(request.name, request.facts, capacity, request.draining, version);
    const stop = this.reconcile(request.name, request.running, request.finished);
    this.log.info("agent registered", {
      agent: request.name,
      arch: request.facts.arch,
      cores: request.facts.cores,
      memoryBytes: request.facts.memoryBytes,
      version: version.release ?? "none",
      protocolVersion: version.protocol,
    });
    this.options.onCapacityChanged();
    return {
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      stop,
      ...versionFields(this.options.version),
    };
  }

  /**
   * Agents the store has as live from before this coordinator started, whose version it does not
   * take (it was upgraded past them): lost now, their jobs requeued. Otherwise their heartbeats
   * would keep them in the farm without their ever registering (and being refused) again.
   */
  private turnAwayStoredAgents(): void {
    for (const { name, version } of this.store.agents.liveVersions()) {
      if (acceptsAgentVersion(version, this.options.version) || !this.store.agents.markLost(name)) continue;
      this.log.warn("agent turned away: its version is not one this coordinator takes", {
        agent: name,
        agentVersion: describeVersion(version),
        coordinatorVersion: describeVersion(this.options.version),
      });
      for (const active of this.store.jobs.activeAttemptsOf(name)) {
        this.transitions.loseAttempt(
          active.attemptId,
          this.options.maxAttempts,
          `agent ${name} runs ${describeVersion(version)}, which this coordinator no longer takes`,
        );
      }
    }
  }

  private onHeartbeat(beat: Heartbeat): HeartbeatReply {
    const known = this.store.agents.heartbeat(beat.name, beat.usedBytes, beat.draining);
    if (!known) return { reregister: true, stop: [] };
    this.options.onAgentFigures?.(beat.name, beat.self);
    return { reregister: false, stop: this.reconcile(beat.name, beat.running, beat.finished) };
  }

  /** Requeues what the agent lost, and says which attempts it must stop (reconcile-agent.ts). */
  private reconcile(agent: string, running: string[], finished: string[]): string[] {
    const stop = reconcileAgent(
      this.store.jobs,
      this.transitions,
      { agent, running, finished },
      { maxAttempts: this.options.maxAttempts, nowMs: Date.now() },
    );
    if (stop.length > 0)
      this.log.warn("telling an agent to stop attempts it no longer owns", { agent, stop });
    return stop;
  }
}
