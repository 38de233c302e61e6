import { readFileSync } from "node:fs";
import { createAppAuth } from "@octokit/auth-app";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { ValidationError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { GithubConfig } from "./github-config.ts";

const BotOctokit = Octokit.plugin(retry, throttling);
export type GithubApi = InstanceType<typeof BotOctokit>;

/** Rate-limited calls are retried this many times (octokit's throttling plugin waits as GitHub says). */
const RATE_LIMIT_RETRIES = 2;

/**
 * Octokit clients for the configured API URL, with octokit's retry and
 * throttling plugins: one for a token, or one per App installation, whose
 * installation token @octokit/auth-app caches and renews before it expires.
 */
export class GithubClients {
  private readonly clients = new Map<number | null, GithubApi>();
  private readonly privateKey: string | null;
  private readonly installations = new Map<string, number>();

  constructor(
    private readonly config: GithubConfig,
    private readonly log: Logger,
  ) {
    this.privateKey = config.auth.kind === "app" ? readPrivateKey(config.auth.privateKeyFile) : null;
  }

  /**
   * The client for a repository no webhook named: the token's, or an App's installation on that
   * repository, asked of GitHub once (`GET /repos/{owner}/{repo}/installation`, as the App itself).
   */
  async forRepository(repository: string): Promise<GithubApi> {
    if (this.config.auth.kind === "token") return this.forInstallation(null);
    let installation = this.installations.get(repository);
    if (installation === undefined) {
      const [owner = "", repo = ""] = repository.split("/");
      const { auth } = this.config;
      const asApp = new BotOctokit({
        baseUrl: this.config.apiUrl,
        userAgent: "memfarm-pr-bot",
        authStrategy: createAppAuth,
        auth: { appId: auth.appId, privateKey: this.privateKey },
      });
      installation = (await asApp.rest.apps.getRepoInstallation({ owner, repo })).data.id;
      this.installations.set(repository, installation);
    }
    return this.forInstallation(installation);
  }

  /** The client for a webhook's installation (an App) or the token's client (installation ignored). */
  forInstallation(installationId: number | null): GithubApi {
    const key = this.config.auth.kind === "token" ? null : installationId;
    let client = this.clients.get(key);
    if (!client) {
      client = this.create(key);
      this.clients.set(key, client);
    }
    return client;
  }

  private create(installationId: number | null): GithubApi {
    const { auth } = this.config;
    const log = this.log;
    const common = {
      baseUrl: this.config.apiUrl,
      userAgent: "memfarm-pr-bot",
      log: {
        debug: (message: string) => log.debug(message),
        info: (message: string) => log.debug(message),
        warn: (message: string) => log.warn(message),
        error: (message: string) => log.error(message),
      },
      retry: { retries: this.config.requestRetries },
      throttle: {
        onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
          log.warn("GitHub rate limit hit", { retryAfter, retryCount });
          return retryCount < RATE_LIMIT_RETRIES;
        },
        onSecondaryRateLimit: (
          retryAfter: number,
          _options: unknown,
          _octokit: unknown,
          retryCount: number,
        ) => {
          log.warn("GitHub secondary rate limit hit", { retryAfter, retryCount });
          return retryCount < RATE_LIMIT_RETRIES;
        },
      },
    };
    if (auth.kind === "token") return new BotOctokit({ ...common, auth: auth.token });
    if (installationId === null) {
      throw new ValidationError(
        "no_installation",
        "the webhook names no App installation; install the GitHub App on the repository",
      );
    }
    return new BotOctokit({
      ...common,
      authStrategy: createAppAuth,
      auth: { appId: auth.appId, privateKey: this.privateKey, installationId },
    });
  }
}

function readPrivateKey(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (thrown) {
    throw new ValidationError(
      "invalid_option",
      `MEMFARM_GITHUB_PRIVATE_KEY_FILE: cannot read ${file} (${(thrown as Error).message})`,
      "MEMFARM_GITHUB_PRIVATE_KEY_FILE",
    );
  }
}
