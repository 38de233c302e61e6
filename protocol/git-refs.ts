import { ValidationError } from "./errors.ts";

/**
 * Git refs and repository URLs that travel from a person to an agent's git.
 * The coordinator checks them at submit and the agent again before any git
 * command, so nothing git could read as an option, a remote helper or a
 * shell word ever reaches it. The rules follow `git check-ref-format`, with a
 * smaller character set: stricter than git is fine, looser is not.
 */

export const DEFAULT_CPYTHON_REPO = "https://github.com/python/cpython.git";

export const MAX_REF_LENGTH = 200;
export const MAX_REPO_URL_LENGTH = 1000;

/** Characters a ref may hold here: git allows more, but these cover branches, tags, SHAs and PR refs. */
const REF_CHARS = /^[A-Za-z0-9._/+-]+$/;
/** An abbreviated or full commit id. */
const COMMIT_SHA = /^[0-9a-fA-F]{7,40}$/;
/** A whole commit id as git prints it: 40 hex digits (SHA-1) or 64 (a SHA-256 repository), lowercase. */
const FULL_COMMIT_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** GitHub's (and Gitea's) ref for the head of a pull request. */
const PULL_REQUEST_REF = /^pull\/([1-9][0-9]{0,9})\/head$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const WHITESPACE = /\s/;
const REF_EXAMPLES = "use a branch (main, 3.13), a tag (v3.13.0), a commit SHA or pull/N/head";
const REPO_EXAMPLES = `use an https:// URL such as ${DEFAULT_CPYTHON_REPO}, ssh://git@host/owner/repo.git or git@host:owner/repo.git`;

/**
 * A branch, tag, commit SHA (7 to 40 hex digits) or `pull/N/head`. Returns the
 * ref unchanged; throws a ValidationError that says what to change.
 */
export function checkGitRef(ref: string, field = "ref"): string {
  const problem = refProblem(ref);
  if (problem !== null) {
    throw new ValidationError("invalid_ref", `${field}: ${quote(ref)} ${problem}; ${REF_EXAMPLES}`, field);
  }
  return ref;
}

function refProblem(ref: string): string | null {
  if (ref === "") return "is empty";
  if (ref.length > MAX_REF_LENGTH) return `is longer than ${MAX_REF_LENGTH} characters`;
  if (CONTROL_CHARS.test(ref)) return "contains control characters";
  if (WHITESPACE.test(ref)) return "contains whitespace";
  if (ref.startsWith("-")) return "starts with -, so git would read it as an option";
  if (ref.startsWith("+")) return "starts with +, which git reads as a forced refspec";
  if (ref.includes("..")) return "contains .., which git reads as a range";
  if (ref.includes("@{")) return "contains @{, which git reads as a reflog selector";
  if (ref === "@") return "is @, which git reads as HEAD";
  if (ref.includes("\\")) return "contains a backslash";
  if (ref.startsWith("/") || ref.endsWith("/")) return "starts or ends with /";
  if (ref.includes("//")) return "contains //";
  if (ref.endsWith(".")) return "ends with .";
  if (!REF_CHARS.test(ref)) {
    return "contains characters that are not allowed in a ref here (only letters, digits and . _ / + -)";
  }
  for (const component of ref.split("/")) {
    if (component.startsWith(".")) return `has a part that starts with . (${quote(component)})`;
    if (component.endsWith(".lock")) return `has a part that ends with .lock (${quote(component)})`;
  }
  return null;
}

/** A 7 to 40 hex digit commit id: fetched and resolved as a commit, not looked up as a branch name. */
export function isCommitSha(ref: string): boolean {
  return COMMIT_SHA.test(ref);
}

/**
 * The commit a build pins: what `git rev-parse` resolved, or a pull request's head from GitHub. A
 * pinned commit is the one thing a later fetch cannot move, so nothing shorter or in another case
 * passes (an abbreviated id could name two commits later on).
 */
export function isFullCommitSha(text: string): boolean {
  return FULL_COMMIT_SHA.test(text);
}

/** `pull/N/head` names the remote ref `refs/pull/N/head`. */
export function isPullRequestRef(ref: string): boolean {
  return PULL_REQUEST_REF.test(ref);
}

export interface RepoUrlOptions {
  /** Accept `file://` URLs and absolute paths: for tests and local mirrors (`--allow-local-repos`). */
  allowLocal: boolean;
}

/** One path segment of a repository: no `.`/`..`, nothing git or a shell would treat specially. */
const SEGMENT = "(?!\\.\\.?(?:/|$))[A-Za-z0-9._~+][A-Za-z0-9._~+-]*";
const PATH = `${SEGMENT}(?:/${SEGMENT})*`;
const HOST = "[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?";
const USER = "[A-Za-z0-9_][A-Za-z0-9._-]*";
const PORT = "(?::[0-9]{1,5})?";
const HTTPS_URL = new RegExp(`^https://${HOST}${PORT}/${PATH}/?$`);
const SSH_URL = new RegExp(`^ssh://(?:${USER}@)?${HOST}${PORT}/${PATH}/?$`);
/** scp-like `git@host:owner/repo.git`: no slash before the colon, the path may not start with `-`. */
const SCP_LIKE = new RegExp(`^(?:${USER}@)?${HOST}:/?${PATH}/?$`);
const FILE_URL = new RegExp(`^file:///${PATH}/?$`);
const LOCAL_PATH = new RegExp(`^/${PATH}/?$`);
/** `ext::`, `fd::` and every other `<transport>::<address>` remote helper form. */
const REMOTE_HELPER = /^[A-Za-z][A-Za-z0-9+.-]*::/;

/**
 * A repository git may fetch from: https, ssh or scp-like URLs; `file://` URLs
 * and absolute paths only when `allowLocal`. Returns the URL unchanged.
 */
export function checkRepoUrl(url: string, options: RepoUrlOptions, field = "repo"): string {
  const problem = repoProblem(url, options);
  if (problem !== null) {
    throw new ValidationError("invalid_repo", `${field}: ${quote(url)} ${problem}`, field);
  }
  return url;
}

function repoProblem(url: string, { allowLocal }: RepoUrlOptions): string | null {
  if (url === "") return `is empty; ${REPO_EXAMPLES}`;
  if (url.length > MAX_REPO_URL_LENGTH) return `is longer than ${MAX_REPO_URL_LENGTH} characters`;
  if (CONTROL_CHARS.test(url)) return "contains control characters";
  if (WHITESPACE.test(url)) return "contains whitespace";
  if (url.startsWith("-")) return "starts with -, so git would read it as an option";
  if (REMOTE_HELPER.test(url)) {
    return `uses a git remote helper (${url.slice(0, url.indexOf("::") + 2)}), which can run commands; ${REPO_EXAMPLES}`;
  }
  if (HTTPS_URL.test(url) || SSH_URL.test(url)) return null;
  const local = url.startsWith("file://") || url.startsWith("/");
  if (local) {
    if (!allowLocal) {
      return "is a local repository, which this farm does not accept (agents need --allow-local-repos)";
    }
    if (FILE_URL.test(url) || LOCAL_PATH.test(url)) return null;
    return "is not a usable local path (letters, digits and . _ ~ + - in each part, no . or .. parts)";
  }
  if (/^https:\/\/[^/]*@/.test(url)) {
    return "has credentials in it, which would end up in logs; use a git credential helper on the agent";
  }
  if (url.startsWith("https://") || url.startsWith("ssh://")) {
    return `is not a valid URL (a host, then a path of letters, digits and . _ ~ + -); ${REPO_EXAMPLES}`;
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) {
    return `uses a transport that is not allowed (only https://, ssh://${allowLocal ? " and file://" : ""}); ${REPO_EXAMPLES}`;
  }
  if (SCP_LIKE.test(url)) return null;
  return `is not a repository URL memfarm accepts; ${REPO_EXAMPLES}`;
}

/** Quotes input for a message, with control characters escaped so the message stays one readable line. */
function quote(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 80)}...` : text;
  return JSON.stringify(shown);
}
