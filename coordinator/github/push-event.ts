/** What the bot reads of a GitHub `push` event: which repository, which branch. */
export interface PushPayload {
  ref?: string;
  repository?: { full_name?: string };
}

/**
 * The repository (`owner/name`, lowercase) and branch a push went to, or null for a tag or a
 * payload without them.
 */
export function pushedBranch(payload: PushPayload): { repository: string; branch: string } | null {
  const branch = /^refs\/heads\/(.+)$/.exec(payload.ref ?? "")?.[1];
  const repository = payload.repository?.full_name?.toLowerCase();
  return branch && repository ? { repository, branch } : null;
}

/** Whether a watch's repository URL is GitHub's `owner/name` (https or ssh, with or without .git). */
export function isGithubRepo(url: string, repository: string): boolean {
  return githubRepositoryOf(url) === repository;
}

/** The `owner/name` (lowercase) a GitHub repository URL names, or null for another host. */
export function githubRepositoryOf(url: string): string | null {
  const match =
    /^(?:https:\/\/github\.com\/|git@github\.com:|ssh:\/\/git@github\.com\/)([^/]+\/[^/]+?)(?:\.git)?\/?$/i.exec(
      url,
    );
  return match?.[1]?.toLowerCase() ?? null;
}
