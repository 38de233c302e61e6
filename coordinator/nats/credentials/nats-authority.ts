import { join } from "node:path";
import { NotFoundError } from "../../../protocol/errors.ts";
import type { Logger } from "../../../protocol/logger.ts";
import { checkAgentName } from "../../../protocol/names.ts";
import { formatSeedFile } from "../../../protocol/nats-credentials.ts";
import { writePrivateFile } from "../../../protocol/private-file.ts";
import type { NatsCredentialsStore } from "../../store/nats-credentials-store.ts";
import { renderAuthorizationConfig } from "./authorization-config.ts";
import { createNkeyUser, publicKeyOfSeedFile, writeSeedFile } from "./seed-files.ts";

/** Where a farm keeps NATS credentials and the server's authorization include, under DATA_DIR. */
export const natsAuthPaths = (dataDir: string) => ({
  credentialsDir: join(dataDir, "credentials"),
  coordinatorSeed: join(dataDir, "credentials", "coordinator.nk"),
  /** Prefixed so that an agent named "coordinator" cannot take the coordinator's file. */
  agentSeed: (agent: string) => join(dataDir, "credentials", `agent-${agent}.nk`),
  authorizationFile: join(dataDir, "nats", "authorization.conf"),
});

export interface NatsAuthorityOptions {
  dataDir: string;
  store: NatsCredentialsStore;
  /** The coordinator's public key, listed with every right; null when unknown (its --creds is a JWT). */
  coordinatorKey: string | null;
  /** Makes nats-server read the rewritten authorization file; null when the server is not ours. */
  reload: (() => Promise<void>) | null;
  log: Logger;
}

export interface IssuedCredentials {
  agent: string;
  publicKey: string;
  /** The credentials file for the agent (its NKey seed), to pass as `memfarm agent --creds FILE`. */
  credentials: string;
  /** True when the running nats-server already accepts the key; false: reload it yourself. */
  serverReloaded: boolean;
  authorizationFile: string;
}

/**
 * Issues and revokes agents' NATS users (NKeys). Only public keys are kept (in SQLite); a seed
 * leaves in the agent's credentials file and nowhere else. Every change rewrites the
 * authorization include and, when the server is ours, reloads it: nats-server then drops the
 * connections of revoked keys and refuses them from then on.
 */
export class NatsAuthority {
  private readonly paths: ReturnType<typeof natsAuthPaths>;
  /** Changes are applied one at a time, so the file on disk and the reload follow the store in order. */
  private applying: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: NatsAuthorityOptions) {
    this.paths = natsAuthPaths(options.dataDir);
  }

  /** The coordinator's own NKey (seed in DATA_DIR/credentials/coordinator.nk, 0600), made once. */
  static async ensureCoordinatorSeed(dataDir: string): Promise<{ file: string; publicKey: string }> {
    const file = natsAuthPaths(dataDir).coordinatorSeed;
    const existing = await publicKeyOfSeedFile(file);
    if (existing) return { file, publicKey: existing };
    const user = createNkeyUser();
    await writeSeedFile(file, user.seed, ["memfarm coordinator's NATS user (NKey seed). Keep it secret."]);
    return { file, publicKey: user.publicKey };
  }

  get authorizationFile(): string {
    return this.paths.authorizationFile;
  }

  /** Writes the authorization include from the store, without reloading (before the server starts). */
  async writeAuthorization(): Promise<void> {
    await writePrivateFile(
      this.paths.authorizationFile,
      renderAuthorizationConfig(this.options.coordinatorKey, this.options.store.listActive()),
    );
  }

  /** New credentials for `agent`; a key it had before stops working. */
  async issue(agentName: string): Promise<IssuedCredentials> {
    const agent = checkAgentName(agentName, "name");
    const user = createNkeyUser();
    this.options.store.replace(agent, user.publicKey);
    const serverReloaded = await this.apply();
    this.options.log.info("issued NATS credentials", { agent, publicKey: user.publicKey });
    return {
      agent,
      publicKey: user.publicKey,
      credentials: formatSeedFile(user.seed, seedComments(agent, user.publicKey)),
      serverReloaded,
      authorizationFile: this.paths.authorizationFile,
    };
  }

  /**
   * The credentials file of an agent on this machine (DATA_DIR/credentials/agent-NAME.nk), kept
   * across restarts while its key is in force, issued anew otherwise.
   */
  async ensureLocalAgent(agentName: string): Promise<string> {
    const agent = checkAgentName(agentName, "name");
    const file = this.paths.agentSeed(agent);
    const key = await publicKeyOfSeedFile(file);
    if (key && key === this.options.store.activeKeyOf(agent)) return file;
    const issued = await this.issue(agent);
    await writePrivateFile(file, issued.credentials);
    return file;
  }

  /** Revokes the agent's key: it cannot connect any more, and its open connection is dropped. */
  async revoke(agentName: string): Promise<{ agent: string; serverReloaded: boolean }> {
    const agent = checkAgentName(agentName, "name");
    if (!this.options.store.revoke(agent)) {
      throw new NotFoundError(`agent ${agent} has no NATS credentials in force; nothing to revoke`);
    }
    const serverReloaded = await this.apply();
    this.options.log.info("revoked NATS credentials", { agent });
    return { agent, serverReloaded };
  }

  /** Rewrites the include and reloads the server if it is ours; true when it was reloaded. */
  private apply(): Promise<boolean> {
    const next = this.applying.then(async () => {
      await this.writeAuthorization();
      if (!this.options.reload) {
        this.options.log.warn("NATS users changed; reload the nats-server to apply them", {
          file: this.paths.authorizationFile,
        });
        return false;
      }
      await this.options.reload();
      return true;
    });
    this.applying = next.catch(() => undefined);
    return next;
  }
}

function seedComments(agent: string, publicKey: string): string[] {
  return [
    `memfarm NATS credentials of agent ${agent}: an NKey user seed. Keep it secret (mode 0600);`,
    "it is valid until revoked (memfarm agents revoke NAME) or issued again.",
    `Public key: ${publicKey}`,
    `Use: memfarm agent --nats URL --creds THIS_FILE --name ${agent}`,
  ];
}
