import { resolve } from "node:path";
import { quoted, ValidationError } from "../../protocol/errors.ts";
import { splitList } from "../../protocol/lists.ts";

/**
 * The raw `MEMFARM_GITHUB_*` values (DESIGN.md "GitHub pull-request bot"), or the config file's
 * github keys, as compileCoordinatorConfig reads them.
 */
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

/** What an error calls each option: where its value came from; the environment variable when not said. */
export type GithubNames = Partial<Record<keyof GithubOptions, string>>;

const VARIABLES: Record<keyof GithubOptions, string> = {
  webhookSecret: "MEMFARM_GITHUB_WEBHOOK_SECRET",
  apiUrl: "MEMFARM_GITHUB_API_URL",
  token: "MEMFARM_GITHUB_TOKEN",
  appId: "MEMFARM_GITHUB_APP_ID",
  privateKeyFile: "MEMFARM_GITHUB_PRIVATE_KEY_FILE",
  repos: "MEMFARM_GITHUB_REPOS",
  publicUrl: "MEMFARM_PUBLIC_URL",
};

const REPO_NAME = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;

/**
 * Null when no webhook secret is set: the bot is off. Every other problem names the variable or
 * key to fix (a secret's value never shows in an error).
 */
export function compileGithubConfig(options: GithubOptions, names: GithubNames = {}): GithubConfig | null {
  const name = (option: keyof GithubOptions) => names[option] ?? VARIABLES[option];
  if (!options.webhookSecret) return null;
  if (options.webhookSecret.length < 16) {
    throw new ValidationError(
      "invalid_option",
      `${name("webhookSecret")} must be at least 16 characters (GitHub suggests a random string of high entropy)`,
      name("webhookSecret"),
    );
  }
  const repos = splitList(options.repos ?? "");
  if (repos.length === 0) {
    throw new ValidationError(
      "invalid_option",
      `${name("repos")} must list the repositories the bot answers in, e.g. python/cpython`,
      name("repos"),
    );
  }
  for (const repo of repos) {
    if (!REPO_NAME.test(repo)) {
      throw new ValidationError(
        "invalid_option",
        `${name("repos")}: ${quoted(repo)} is not owner/name`,
        name("repos"),
      );
    }
  }
  return {
    webhookSecret: options.webhookSecret,
    apiUrl: readUrl(options.apiUrl ?? "https://api.github.com", name("apiUrl")),
    auth: readAuth(options, name),
    repos: new Set(repos.map((repo) => repo.toLowerCase())),
    publicUrl: options.publicUrl ? readUrl(options.publicUrl, name("publicUrl")) : null,
    requestRetries: 3,
    retryBaseMs: 5_000,
    maxPayloadBytes: 1024 * 1024,
  };
}

function readAuth(options: GithubOptions, name: (option: keyof GithubOptions) => string): GithubAuth {
  if (options.token && options.appId) {
    throw new ValidationError(
      "invalid_option",
      `set ${name("token")} or ${name("appId")} (with ${name("privateKeyFile")}), not both`,
      name("token"),
    );
  }
  if (options.token) return { kind: "token", token: options.token };
  if (options.appId) {
    const appId = Number(options.appId);
    if (!Number.isInteger(appId) || appId < 1) {
      throw new ValidationError(
        "invalid_option",
        `${name("appId")} must be the App's numeric id, not ${quoted(options.appId)}`,
        name("appId"),
      );
    }
    if (!options.privateKeyFile) {
      throw new ValidationError(
        "invalid_option",
        `${name("appId")} needs ${name("privateKeyFile")} (the App's .pem private key)`,
        name("privateKeyFile"),
      );
    }
    return { kind: "app", appId, privateKeyFile: resolve(options.privateKeyFile) };
  }
  throw new ValidationError(
    "invalid_option",
    `the bot needs credentials: ${name("token")}, or ${name("appId")} and ${name("privateKeyFile")}`,
    name("token"),
  );
}

function readUrl(text: string, field: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError("invalid_option", `${field} must be a URL, not ${quoted(text)}`, field);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ValidationError(
      "invalid_option",
      `${field} must be an http(s) URL, not ${quoted(text)}`,
      field,
    );
  }
  return text.replace(/\/+$/, "");
}
