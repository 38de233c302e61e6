import { type Msg, type NatsConnection, RequestError, type Subscription } from "@nats-io/transport-node";
import { coerceError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import {
  type Assignment,
  type AssignReply,
  encode,
  type ProbePythonReply,
  parseAssignReply,
  parseHeartbeat,
  parseProbePythonReply,
  parseRegisterRequest,
} from "../../protocol/messages.ts";
import { agentOfSubject, MAX_MESSAGE_BYTES, Subjects } from "../../protocol/subjects.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import { reconcileAgent } from "../attempts/reconcile-agent.ts";
import type { Store } from "../store/store.ts";

/** An agent's answer to an assignment, or why there was none. */
export type AssignOutcome = AssignReply & { unreachable: boolean };

export interface DispatcherOptions {
  heartbeatIntervalMs: number;
  /** Memory kept back on every host for the OS and the agent. */
  headroomFor: (memoryBytes: number) => number;
  maxAttempts: number;
  /** Called when something happened that may let a waiting job start. */
  onCapacityChanged: () => void;
}

const ASSIGN_TIMEOUT_MS = 5000;
const PROBE_TIMEOUT_MS = 25_000;

/**
 * The coordinator's side of core NATS: answers agents (register, heartbeat) and sends them work
 * (assign, cancel, probe). Progress and results come through the reports stream (report-stream.ts). Every
 * message is validated; a bad one is answered with an error and logged, and
 * changes nothing.
 */
export class Dispatcher {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly store: Store,
    private readonly events: FarmEvents,
    private readonly log: Logger,
    private readonly options: DispatcherOptions,
  ) {}

  start(): void {
    this.serve(Subjects.anyRegister, (msg) => this.onRegister(msg));
    this.serve(Subjects.anyHeartbeat, (msg) => this.onHeartbeat(msg));
  }

  stop(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  async assign(agent: string, assignment: Assignment): Promise<AssignOutcome> {
    try {
      const reply = await this.nc.request(Subjects.assign(agent), encode(assignment), {
        timeout: ASSIGN_TIMEOUT_MS,
      });
      return { ...parseAssignReply(reply.data), unreachable: false };
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
      await this.nc.request(Subjects.cancel(agent), encode({ attemptId }), { timeout: ASSIGN_TIMEOUT_MS });
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
        const reply = await this.nc.request(Subjects.probePython(agent), encode({ python }), {
          timeout: PROBE_TIMEOUT_MS,
        });
        return [agent, parseProbePythonReply(reply.data)] as const;
      }),
    );
    return new Map(replies.flatMap((reply) => (reply.status === "fulfilled" ? [reply.value] : [])));
  }

  private serve(subject: string, handle: (msg: Msg) => unknown): void {
    const subscription = this.nc.subscribe(subject, {
      // A queue group lets a second coordinator process share the load safely later.
      queue: "memfarm-coordinator",
      callback: (error, msg) => {
        if (error) return;
        try {
          if (msg.data.length > MAX_MESSAGE_BYTES) throw new Error("message too large");
          const reply = handle(msg);
          Promise.resolve(reply)
            .then((body) => msg.reply && msg.respond(encode(body)))
            .catch((thrown: unknown) => this.reject(subject, msg, thrown));
        } catch (thrown) {
          this.reject(subject, msg, thrown);
        }
      },
    });
    this.subscriptions.push(subscription);
  }

  private reject(subject: string, msg: Msg, thrown: unknown): void {
    const message = coerceError(thrown).message;
    this.log.warn("rejected a message from an agent", { subject, error: message });
    if (msg.reply) msg.respond(encode({ ok: false, error: message }));
  }

  private onRegister(msg: Msg): unknown {
    const request = parseRegisterRequest(msg.data);
    checkSender(msg.subject, request.name);
    const capacity = Math.max(
      0,
      request.facts.memoryBytes - this.options.headroomFor(request.facts.memoryBytes),
    );
    this.store.agents.register(request.name, request.facts, capacity, request.draining);
    const stop = this.reconcile(request.name, request.running, request.finished);
    this.log.info("agent registered", {
      agent: request.name,
      arch: request.facts.arch,
      cores: request.facts.cores,
      memoryBytes: request.facts.memoryBytes,
    });
    this.options.onCapacityChanged();
    return { ok: true, heartbeatIntervalMs: this.options.heartbeatIntervalMs, stop };
  }

  private onHeartbeat(msg: Msg): unknown {
    const beat = parseHeartbeat(msg.data);
    checkSender(msg.subject, beat.name);
    const known = this.store.agents.heartbeat(beat.name, beat.usedBytes, beat.draining);
    if (!known) return { ok: true, reregister: true, stop: [] };
    return { ok: true, reregister: false, stop: this.reconcile(beat.name, beat.running, beat.finished) };
  }

  /** Requeues what the agent lost, and says which attempts it must stop (reconcile-agent.ts). */
  private reconcile(agent: string, running: string[], finished: string[]): string[] {
    const stop = reconcileAgent(
      this.store,
      this.events,
      this.log,
      { agent, running, finished },
      { maxAttempts: this.options.maxAttempts, nowMs: Date.now() },
    );
    if (stop.length > 0)
      this.log.warn("telling an agent to stop attempts it no longer owns", { agent, stop });
    return stop;
  }
}

/** An agent speaks only for itself: the name in the body must be the one in the subject. */
function checkSender(subject: string, name: string): void {
  const sender = agentOfSubject(subject);
  if (sender !== name) throw new Error(`agent ${sender ?? "?"} sent a message in the name of ${name}`);
}
