import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { Endpoints } from "../../protocol/endpoints.ts";
import { coerceError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { Assignment, AssignReply, CancelReply, HostFacts } from "../../protocol/messages.ts";
import { callEndpoint, serveEndpoint } from "../../protocol/nats-endpoint.ts";
import { probePython } from "../cpython/python-check.ts";
import { samplerCpuMicrosSoFar } from "../processes/sampler-cost.ts";

const DEFAULT_HEARTBEAT_MS = 2000;
const REGISTER_TIMEOUT_MS = 3000;
const HEARTBEAT_TIMEOUT_MS = 2000;

/** What the agent tells the coordinator about its attempts at each register and heartbeat. */
export interface AgentStatus {
  running: string[];
  finished: string[];
  usedBytes: number;
  draining: boolean;
}

export interface CoordinatorLinkOptions {
  name: string;
  facts: () => HostFacts;
  status: () => AgentStatus;
  /** Attempts the coordinator no longer counts as this agent's: they must stop. */
  stopDisowned: (attemptIds: string[]) => void;
  assign: (assignment: Assignment) => AssignReply;
  cancel: (attemptId: string) => CancelReply;
}

/**
 * The agent's side of core NATS: it registers (again whenever the coordinator does not know it),
 * heartbeats while it is in the farm, and answers the coordinator's requests (assign, cancel,
 * probe). Every exchange goes through the endpoint helper, so every refusal has one shape.
 */
export class CoordinatorLink {
  private readonly subscriptions: Subscription[] = [];
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private linked = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly options: CoordinatorLinkOptions,
  ) {}

  /** Serves the agent's own subjects. */
  serve(): void {
    const own = (endpoint: { subject: (agent: string) => string }) => ({
      subject: endpoint.subject(this.options.name),
      log: this.log,
    });
    this.subscriptions.push(
      serveEndpoint(this.nc, Endpoints.assign, {
        ...own(Endpoints.assign),
        handle: (assignment) => this.options.assign(assignment),
      }),
      serveEndpoint(this.nc, Endpoints.cancel, {
        ...own(Endpoints.cancel),
        handle: ({ attemptId }) => this.options.cancel(attemptId),
      }),
      serveEndpoint(this.nc, Endpoints.probePython, {
        ...own(Endpoints.probePython),
        handle: ({ python }) => probePython(python),
      }),
    );
  }

  /** Registers (retrying until the coordinator answers), then heartbeats until close(). */
  async join(): Promise<void> {
    this.linked = true;
    await this.register();
    this.scheduleHeartbeat();
  }

  /** Sends a heartbeat now (the agent's state changed), not at the next beat. */
  beatNow(): void {
    if (this.linked) this.scheduleHeartbeat(0);
  }

  /** Stops heartbeats and answering requests. */
  close(): void {
    this.linked = false;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  private async register(): Promise<void> {
    const { name, status } = this.options;
    const { running, finished, draining } = status();
    const request = { name, facts: this.options.facts(), running, finished, draining };
    for (let tries = 1; this.linked; tries += 1) {
      try {
        const reply = await callEndpoint(this.nc, Endpoints.register, name, request, REGISTER_TIMEOUT_MS);
        this.heartbeatMs = reply.heartbeatIntervalMs || DEFAULT_HEARTBEAT_MS;
        this.options.stopDisowned(reply.stop);
        return;
      } catch (thrown) {
        if (tries === 1 || tries % 30 === 0) {
          this.log.warn("waiting for the coordinator to accept registration", {
            error: coerceError(thrown).message,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  private scheduleHeartbeat(delayMs = this.heartbeatMs): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer); // one beat pending at a time
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), delayMs);
  }

  private async heartbeat(): Promise<void> {
    if (!this.linked) return;
    const { name, status } = this.options;
    const cpu = process.cpuUsage();
    const self = {
      cpuMicros: Math.round(cpu.user + cpu.system),
      samplerCpuMicros: Math.round(samplerCpuMicrosSoFar()),
      residentBytes: process.memoryUsage.rss(),
    };
    const beat = { name, ...status(), self };
    try {
      const reply = await callEndpoint(this.nc, Endpoints.heartbeat, name, beat, HEARTBEAT_TIMEOUT_MS);
      this.options.stopDisowned(reply.stop);
      if (reply.reregister) await this.register();
    } catch (thrown) {
      this.log.debug("heartbeat not answered", { error: coerceError(thrown).message });
    } finally {
      if (this.linked) this.scheduleHeartbeat();
    }
  }
}
