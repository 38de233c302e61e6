import { resolve } from "node:path";
import { ValidationError } from "../../protocol/errors.ts";
import { splitList } from "../../protocol/lists.ts";

/** The raw `MEMFARM_GITHUB_*` values (DESIGN.md "GitHub pull-request bot"), as compileCoordinatorConfig reads them. */
export interface GithubOptions {
  webhookSecret?: string;
  apiUrl?: string;
  token?: string;
  appId?: string;
  privateKeyFile?: string;
  repos?: string;
  publicUrl?: string;
}

export type GithubAuth =
  | { kind: "token"; token: string }
  | { kind: "app"; appId: number; privateKeyFile: string };

export interface GithubConfig {
  webhookSecret: string;
  /** GitHub's REST API, or a GitHub Enterprise Server's (`https://HOST/api/v3`). */
  apiUrl: string;
  auth: GithubAuth;
  /** `owner/name`, lower-cased: GitHub's names are case-insensitive. */
  repos: Set<string>;
  /** The dashboard's address, for links in check runs and comments; null: the coordinator's own HTTP address. */
  publicUrl: string | null;
  /** Retries of a failed GitHub call inside one attempt (octokit's retry plugin); the store retries later ones. */
  requestRetries: number;
  /** How often feedback that failed is tried again, at the earliest. */
  retryBaseMs: number;
  /** Largest webhook body accepted (GitHub sends at most 25 MB; commands never need that much). */
  maxPayloadBytes: number;
}

const REPO_NAME = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;

/** Null when no webhook secret is set: the bot is off. Every other problem names the variable to fix. */
export function compileGithubConfig(options: GithubOptions): GithubConfig | null {
  if (!options.webhookSecret) return null;
  if (options.webhookSecret.length < 16) {
    throw new ValidationError(
      "invalid_option",
      "MEMFARM_GITHUB_WEBHOOK_SECRET must be at least 16 characters (GitHub suggests a random string of high entropy)",
      "MEMFARM_GITHUB_WEBHOOK_SECRET",
    );
  }
  const repos = splitList(options.repos ?? "");
  if (repos.length === 0) {
    throw new ValidationError(
      "invalid_option",
      "MEMFARM_GITHUB_REPOS must list the repositories the bot answers in, e.g. python/cpython",
      "MEMFARM_GITHUB_REPOS",
    );
  }
  for (const repo of repos) {
    if (!REPO_NAME.test(repo)) {
      throw new ValidationError(
        "invalid_option",
        `MEMFARM_GITHUB_REPOS: "${repo}" is not owner/name`,
        "MEMFARM_GITHUB_REPOS",
      );
    }
  }
  return {
    webhookSecret: options.webhookSecret,
    apiUrl: readUrl(options.apiUrl ?? "https://api.github.com", "MEMFARM_GITHUB_API_URL"),
    auth: readAuth(options),
    repos: new Set(repos.map((repo) => repo.toLowerCase())),
    publicUrl: options.publicUrl ? readUrl(options.publicUrl, "MEMFARM_PUBLIC_URL") : null,
    requestRetries: 3,
    retryBaseMs: 5_000,
    maxPayloadBytes: 1024 * 1024,
  };
}

function readAuth(options: GithubOptions): GithubAuth {
  if (options.token && options.appId) {
    throw new ValidationError(
      "invalid_option",
      "set MEMFARM_GITHUB_TOKEN or MEMFARM_GITHUB_APP_ID (with MEMFARM_GITHUB_PRIVATE_KEY_FILE), not both",
      "MEMFARM_GITHUB_TOKEN",
    );
  }
  if (options.token) return { kind: "token", token: options.token };
  if (options.appId) {
    const appId = Number(options.appId);
    if (!Number.isInteger(appId) || appId < 1) {
      throw new ValidationError(
        "invalid_option",
        `MEMFARM_GITHUB_APP_ID must be the App's numeric id, not "${options.appId}"`,
        "MEMFARM_GITHUB_APP_ID",
      );
    }
    if (!options.privateKeyFile) {
      throw new ValidationError(
        "invalid_option",
        "MEMFARM_GITHUB_APP_ID needs MEMFARM_GITHUB_PRIVATE_KEY_FILE (the App's .pem private key)",
        "MEMFARM_GITHUB_PRIVATE_KEY_FILE",
      );
    }
    return { kind: "app", appId, privateKeyFile: resolve(options.privateKeyFile) };
  }
  throw new ValidationError(
    "invalid_option",
    "the bot needs credentials: MEMFARM_GITHUB_TOKEN, or MEMFARM_GITHUB_APP_ID and MEMFARM_GITHUB_PRIVATE_KEY_FILE",
    "MEMFARM_GITHUB_TOKEN",
  );
}

function readUrl(text: string, field: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError("invalid_option", `${field} must be a URL, not "${text}"`, field);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ValidationError("invalid_option", `${field} must be an http(s) URL, not "${text}"`, field);
  }
  return text.replace(/\/+$/, "");
}
