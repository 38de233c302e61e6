import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { Endpoints } from "../../protocol/endpoints.ts";
import { coerceError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type {
  Assignment,
  AssignReply,
  CancelReply,
  HostFacts,
  ProbePythonReply,
} from "../../protocol/messages.ts";
import { callEndpoint, RemoteError, serveEndpoint } from "../../protocol/nats-endpoint.ts";
import {
  describeVersion,
  type SpokenVersion,
  spokenVersionOf,
  versionFields,
} from "../../protocol/protocol-version.ts";
import { samplerCpuMicrosSoFar } from "../processes/sampler-cost.ts";

const DEFAULT_HEARTBEAT_MS = 2000;
const REGISTER_TIMEOUT_MS = 3000;
const HEARTBEAT_TIMEOUT_MS = 2000;
/** While the coordinator refuses this agent's version: nothing changes until someone upgrades one side. */
const REFUSED_RETRY_MS = 30_000;
/** The coordinator's refusals of an agent's version (coordinator/nats/agent-versions.ts). */
const VERSION_REFUSALS = new Set(["agent_too_old", "agent_newer_than_coordinator", "invalid_version"]);

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
  /** Checks an interpreter for the coordinator (the agent's cached check, the one jobs use). */
  probePython: (python: string) => Promise<ProbePythonReply>;
  /** What the agent says it is (its own release and protocol; tests may pretend). */
  version: SpokenVersion;
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
  /** Why the coordinator refused this agent's version at the last try, or null once it took the agent. */
  private refusal: string | null = null;
  private wakeRetry: (() => void) | null = null;
  /** The registration in progress: a heartbeat told to register again while one runs joins it. */
  private registering: Promise<void> | null = null;

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
        // Refused agents take no job, whoever asks (a coordinator that still has them as online).
        handle: (assignment) =>
          this.refusal === null
            ? this.options.assign(assignment)
            : { accepted: false, reason: `the coordinator refused this agent: ${this.refusal}` },
      }),
      serveEndpoint(this.nc, Endpoints.cancel, {
        ...own(Endpoints.cancel),
        handle: ({ attemptId }) => this.options.cancel(attemptId),
      }),
      serveEndpoint(this.nc, Endpoints.probePython, {
        ...own(Endpoints.probePython),
        handle: ({ python }) => this.options.probePython(python),
      }),
    );
  }

  /**
   * Registers (retrying until the coordinator takes the agent), then heartbeats until close().
   * False if close() came first.
   */
  async join(): Promise<boolean> {
    this.linked = true;
    await this.register();
    if (!this.linked) return false;
    this.scheduleHeartbeat();
    return true;
  }

  /** Sends a heartbeat now (the agent's state changed), not at the next beat. */
  beatNow(): void {
    if (this.linked) this.scheduleHeartbeat(0);
  }

  /** Stops heartbeats and answering requests. */
  close(): void {
    this.linked = false;
    this.wakeRetry?.();
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }

  private register(): Promise<void> {
    this.registering ??= this.registerUntilTaken().finally(() => {
      this.registering = null;
    });
    return this.registering;
  }

  private async registerUntilTaken(): Promise<void> {
    const { name, status } = this.options;
    for (let tries = 1; this.linked; tries += 1) {
      const { running, finished, draining } = status();
      const request = {
        name,
        facts: this.options.facts(),
        running,
        finished,
        draining,
        ...versionFields(this.options.version),
      };
      try {
        const reply = await callEndpoint(this.nc, Endpoints.register, name, request, REGISTER_TIMEOUT_MS);
        this.heartbeatMs = reply.heartbeatIntervalMs || DEFAULT_HEARTBEAT_MS;
        this.accepted(spokenVersionOf(reply));
        this.options.stopDisowned(reply.stop);
        return;
      } catch (thrown) {
        if (thrown instanceof RemoteError && VERSION_REFUSALS.has(thrown.code)) {
          await this.refused(thrown.message, tries);
          continue;
        }
        if (tries === 1 || tries % 30 === 0) {
          this.log.warn("waiting for the coordinator to accept registration", {
            error: coerceError(thrown).message,
          });
        }
        await this.pause(1000);
      }
    }
  }

  /**
   * The coordinator will not take this version. The agent stays up and tries again slowly rather
   * than exit: under systemd an exit is restarted at once (a loop), and after the upgrade the
   * admin does (the coordinator's, or `memfarm hosts upgrade`, which replaces this process) the
   * agent joins by itself. Until then it takes no job (serve()).
   */
  private async refused(reason: string, tries: number): Promise<void> {
    const first = this.refusal !== reason;
    this.refusal = reason;
    if (first || tries % 20 === 0) {
      this.log.error(
        `the coordinator refused this agent's version; trying again every ${REFUSED_RETRY_MS / 1000} s`,
        {
          version: describeVersion(this.options.version),
          error: reason,
        },
      );
    }
    await this.pause(REFUSED_RETRY_MS);
  }

  private accepted(coordinator: SpokenVersion): void {
    if (this.refusal !== null) this.log.info("the coordinator now takes this agent's version");
    this.refusal = null;
    // A coordinator from before versions takes any agent; it speaks protocol 1's messages (they
    // only add fields), but the order is the coordinator first.
    if (coordinator.release === null) {
      this.log.warn(
        `the coordinator says no version (it is older than 0.1.0) while this agent runs ${describeVersion(this.options.version)}: upgrade the coordinator first`,
      );
    }
  }

  /** Waits, cut short by close(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeRetry = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeRetry = done;
    });
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
