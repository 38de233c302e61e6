import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { coerceError } from "../protocol/errors.ts";
import type { Logger } from "../protocol/logger.ts";
import {
  type Assignment,
  type AssignReply,
  encode,
  type ProbePythonReply,
  parseAssignReply,
  parseAttemptResult,
  parseHeartbeat,
  parseProbePythonReply,
  parseProgress,
  parseRegisterRequest,
} from "../protocol/messages.ts";
import { agentOfSubject, MAX_MESSAGE_BYTES, Subjects } from "../protocol/subjects.ts";
import type { FarmEvents } from "./events.ts";
import { applyProgress, applyResult } from "./reports.ts";
import type { Store } from "./store/store.ts";

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
 * The coordinator's side of NATS: answers agents (register, heartbeat,
 * progress, result) and sends them work (assign, cancel, probe). Every
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
    this.serve(Subjects.progress, (msg) => {
      const verdict = applyProgress(this.store, this.events, this.log, parseProgress(msg.data));
      return { ok: true, verdict };
    });
    this.serve(Subjects.result, (msg) => {
      const verdict = applyResult(this.store, this.events, this.log, parseAttemptResult(msg.data));
      if (verdict === "applied") this.options.onCapacityChanged();
      return { ok: true, verdict };
    });
  }

  stop(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  async assign(agent: string, assignment: Assignment): Promise<AssignReply> {
    try {
      const reply = await this.nc.request(Subjects.assign(agent), encode(assignment), {
        timeout: ASSIGN_TIMEOUT_MS,
      });
      return parseAssignReply(reply.data);
    } catch (thrown) {
      return { accepted: false, reason: `agent ${agent} did not answer: ${coerceError(thrown).message}` };
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
    // Attempts the coordinator thinks run there but the agent no longer has: the agent restarted.
    for (const active of this.store.jobs.activeAttemptsOf(request.name)) {
      if (!request.running.includes(active.attemptId)) {
        this.store.jobs.loseAttempt(
          active.attemptId,
          this.options.maxAttempts,
          `agent ${request.name} restarted`,
        );
        const job = this.store.jobs.get(active.jobId);
        if (job) this.events.emit("job", job);
      }
    }
    this.log.info("agent registered", {
      agent: request.name,
      arch: request.facts.arch,
      cores: request.facts.cores,
      memoryBytes: request.facts.memoryBytes,
    });
    this.options.onCapacityChanged();
    return { ok: true, heartbeatIntervalMs: this.options.heartbeatIntervalMs };
  }

  private onHeartbeat(msg: Msg): unknown {
    const beat = parseHeartbeat(msg.data);
    checkSender(msg.subject, beat.name);
    const known = this.store.agents.heartbeat(beat.name, beat.usedBytes, beat.draining);
    return { ok: true, reregister: !known };
  }
}

/** An agent speaks only for itself: the name in the body must be the one in the subject. */
function checkSender(subject: string, name: string): void {
  const sender = agentOfSubject(subject);
  if (sender !== name) throw new Error(`agent ${sender ?? "?"} sent a message in the name of ${name}`);
}
