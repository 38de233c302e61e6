import { ConflictError, coerceError, NotFoundError } from "../../protocol/errors.ts";
import type { InstalledAgentOptions } from "../../protocol/installed-agent-config.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { HostOperation, HostResource } from "../../protocol/resources.ts";
import type { NatsAuthority } from "../nats/credentials/nats-authority.ts";
import type { Store } from "../store/store.ts";
import type { AgentBundle } from "./agent-bundle.ts";
import { connectVerified, type HostKeyPolicy } from "./host-connection.ts";
import { HostProgress } from "./host-progress.ts";
import {
  agentLogTail,
  gatherFacts,
  installAgent,
  layoutFor,
  pruneOldVersions,
  startAgent,
  stopAgent,
  uninstallAgent,
} from "./provision-steps.ts";
import type { StartMode } from "./remote-commands.ts";
import type { RemoteFacts } from "./remote-facts.ts";
import type { SshIdentity, SshSession } from "./ssh-session.ts";
import type { SshTarget } from "./ssh-target.ts";
import { StepError } from "./step-error.ts";

export interface HostOperationsDeps {
  store: Store;
  natsAuthority: Pick<NatsAuthority, "issue" | "revoke">;
  advertisedNats: () => string[];
  loadBundle: () => Promise<AgentBundle>;
  wakeScheduler: () => void;
  log: Logger;
  /** How long a started agent has to register over NATS. */
  registerTimeoutMs?: number;
  /** How long a drain waits for running jobs before the agent is stopped anyway (they are handed back). */
  drainTimeoutMs?: number;
}

export interface AddHostRequest {
  name: string;
  target: SshTarget;
  labels: Record<string, string>;
  /** --memory, --no-new-jobs, --drain-timeout for the installed agent; kept for upgrades. */
  agentOptions: InstalledAgentOptions;
  identity: SshIdentity;
  policy: HostKeyPolicy;
}

const POLL_MS = 200;

/**
 * Adds, upgrades, removes and inspects hosts over SSH. Each operation runs in the background, one
 * at a time per host, with its steps in the host's log; the HTTP call returns at once and the CLI
 * follows the log. The identity lives only as long as the operation.
 */
export class HostOperations {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: HostOperationsDeps) {}

  add(request: AddHostRequest): HostResource {
    const { store } = this.deps;
    const existing = store.hosts.get(request.name);
    if (
      existing &&
      existing.status !== "removed" &&
      (existing.address !== request.target.address ||
        existing.port !== request.target.port ||
        existing.user !== request.target.user)
    ) {
      throw new ConflictError(
        "host_exists",
        `a host named ${request.name} already exists at ${existing.user}@${existing.address}:${existing.port}; remove it first or pick another --name`,
      );
    }
    const host = { ...request.target, labels: request.labels, agentOptions: request.agentOptions };
    return this.begin(request.name, host, "add", (progress) => this.runAdd(request, progress));
  }

  upgrade(name: string, identity: SshIdentity): HostResource {
    const host = this.known(name);
    return this.begin(name, host, "upgrade", (progress) => this.runUpgrade(name, host, identity, progress));
  }

  remove(name: string, identity: SshIdentity): HostResource {
    const host = this.known(name);
    return this.begin(name, host, "remove", (progress) => this.runRemove(name, host, identity, progress));
  }

  refreshFacts(name: string, identity: SshIdentity): HostResource {
    const host = this.known(name);
    return this.begin(name, host, "facts", async (progress) => {
      await this.withSession(host, identity, progress, async (session) => {
        const facts = await gatherFacts(session, progress);
        this.deps.store.hosts.record(name, { facts });
      });
    });
  }

  /** Resolves when no operation is running (the coordinator waits for this on stop). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private known(name: string) {
    const host = this.deps.store.hosts.get(name);
    if (!host || host.status === "removed") {
      throw new NotFoundError(`no host named ${name}; memfarm hosts lists them, memfarm hosts add adds one`);
    }
    return host;
  }

  private begin(
    name: string,
    host: SshTarget & { labels: Record<string, string>; agentOptions: InstalledAgentOptions },
    operation: HostOperation,
    run: (progress: HostProgress) => Promise<void>,
  ): HostResource {
    const { store, log } = this.deps;
    if (!store.hosts.begin({ name, ...host }, operation)) {
      throw new ConflictError(
        "host_busy",
        `another operation is running on host ${name}; wait for it (memfarm hosts ${operation} prints its progress)`,
      );
    }
    const progress = new HostProgress(store.hosts, name, log.child({ part: "hosts" }));
    progress.info(`${operation} ${name} (${host.user}@${host.address}:${host.port})`);
    const done = run(progress).then(
      () => {
        store.hosts.end(name, operation === "remove" ? "removed" : "ok", null, null);
      },
      (thrown: unknown) => {
        const step = thrown instanceof StepError ? thrown.step : progress.step;
        const message =
          thrown instanceof StepError ? thrown.message : `unexpected failure: ${coerceError(thrown).message}`;
        progress.error(step, message);
        store.hosts.end(name, "failed", step, message);
      },
    );
    this.running.add(done);
    void done.finally(() => this.running.delete(done));
    return store.hosts.resource(name) as HostResource;
  }

  private async withSession<T>(
    host: SshTarget,
    identity: SshIdentity,
    progress: HostProgress,
    use: (session: SshSession) => Promise<T>,
    policy: HostKeyPolicy = { acceptNew: false, fingerprint: null },
  ): Promise<T> {
    const session = await connectVerified(this.deps.store.hosts, progress, host, identity, policy);
    try {
      return await use(session);
    } finally {
      session.close();
    }
  }

  private async runAdd(request: AddHostRequest, progress: HostProgress): Promise<void> {
    await this.withSession(
      request.target,
      request.identity,
      progress,
      async (session) => {
        const facts = await gatherFacts(session, progress);
        this.deps.store.hosts.record(request.name, { facts });
        const previous = this.deps.store.hosts.get(request.name)?.startMode as StartMode | null;
        const agent = { labels: request.labels, options: request.agentOptions };
        await this.install(session, request.name, agent, facts, previous, progress);
      },
      request.policy,
    );
  }

  private async runUpgrade(
    name: string,
    host: SshTarget & {
      labels: Record<string, string>;
      agentOptions: InstalledAgentOptions;
      startMode: string | null;
    },
    identity: SshIdentity,
    progress: HostProgress,
  ): Promise<void> {
    await this.withSession(host, identity, progress, async (session) => {
      const facts = await gatherFacts(session, progress);
      this.deps.store.hosts.record(name, { facts });
      await this.drain(name, progress);
      const agent = { labels: host.labels, options: host.agentOptions };
      await this.install(session, name, agent, facts, host.startMode as StartMode | null, progress);
    });
  }

  /** Stop, upload, start, wait for registration, undrain; on failure the agent is stopped and its key revoked. */
  private async install(
    session: SshSession,
    name: string,
    agent: { labels: Record<string, string>; options: InstalledAgentOptions },
    facts: RemoteFacts,
    previousMode: StartMode | null,
    progress: HostProgress,
  ): Promise<void> {
    const { store, natsAuthority } = this.deps;
    const bundle = await this.deps.loadBundle();
    const layout = layoutFor(facts, bundle.version);
    await stopAgent(session, layout, previousMode, progress);
    const issued = await natsAuthority.issue(name);
    let mode: StartMode | null = null;
    try {
      await installAgent(session, progress, {
        layout,
        bundle,
        credentials: issued.credentials,
        config: { name, labels: agent.labels, options: agent.options, nats: this.deps.advertisedNats() },
      });
      const since = new Date();
      mode = await startAgent(session, progress, layout, facts, name, agent.options);
      store.hosts.record(name, { agentVersion: bundle.version, startMode: mode });
      await this.waitForRegistration(name, since, progress, () => agentLogTail(session, layout));
      await pruneOldVersions(session, layout, bundle.version);
    } catch (thrown) {
      // Nothing half-registered: no agent left running, no key left in force.
      await stopAgent(session, layout, mode, progress).catch(() => undefined);
      await natsAuthority.revoke(name).catch(() => undefined);
      throw thrown;
    }
    if (store.agents.setDrained(name, false)) this.deps.wakeScheduler();
    const online = store.agents.get(name, new Map(), new Map());
    progress.info(
      `${name} is online: ${online?.arch}, ${online?.cores} cores, labels ${JSON.stringify(online?.labels ?? {})}`,
    );
  }

  private async waitForRegistration(
    name: string,
    since: Date,
    progress: HostProgress,
    logTail: () => Promise<string>,
  ) {
    progress.enter("register", "waiting for the agent to join over NATS");
    const timeoutMs = this.deps.registerTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const agent = this.deps.store.agents.get(name, new Map(), new Map());
      if (agent && agent.state !== "lost" && agent.registeredAt >= since.toISOString()) return;
      if (Date.now() > deadline) {
        const tail = await logTail();
        throw new StepError(
          "register",
          `the agent did not join within ${timeoutMs / 1000} s. Can the host reach NATS at ${this.deps.advertisedNats().join(",")} (set --advertise-nats on the coordinator to an address hosts reach)?${tail ? ` Its log ends:\n${tail}` : ""}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** No new jobs for the agent, and wait (bounded) for its running jobs to end. */
  private async drain(name: string, progress: HostProgress): Promise<void> {
    const { store } = this.deps;
    progress.enter("drain", `draining ${name}: it takes no new jobs`);
    if (!store.agents.setDrained(name, true)) return;
    this.deps.wakeScheduler();
    const deadline = Date.now() + (this.deps.drainTimeoutMs ?? 15 * 60_000);
    let told = false;
    for (;;) {
      const running = store.jobs.activeJobsByAgent().get(name) ?? [];
      if (running.length === 0) return;
      if (Date.now() > deadline) {
        progress.warn(`jobs ${running.join(", ")} still run; stopping hands them back to the queue`);
        return;
      }
      if (!told) progress.info(`waiting for jobs ${running.join(", ")} to finish`);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private async runRemove(
    name: string,
    host: SshTarget & { startMode: string | null },
    identity: SshIdentity,
    progress: HostProgress,
  ): Promise<void> {
    const { store } = this.deps;
    await this.drain(name, progress);
    try {
      await this.withSession(host, identity, progress, async (session) => {
        const facts = await gatherFacts(session, progress, false);
        const layout = layoutFor(facts, "none");
        await stopAgent(session, layout, host.startMode as StartMode | null, progress);
        await uninstallAgent(session, progress, layout, host.startMode as StartMode | null);
      });
    } catch (thrown) {
      // The key is what lets an agent in: revoke it even when the host cannot be reached.
      const reason = thrown instanceof StepError ? thrown.message : coerceError(thrown).message;
      progress.warn(`could not uninstall on the host (${reason}); remove ~/.memfarm there by hand`);
    }
    progress.enter("revoke", `revoking ${name}'s NATS credentials`);
    await this.deps.natsAuthority
      .revoke(name)
      .catch((thrown: unknown) => progress.warn(coerceError(thrown).message));
    store.agents.markLost(name);
    store.hosts.unpinKey(host.address, host.port);
    progress.info(`${name} removed; its agent can no longer connect`);
  }
}
