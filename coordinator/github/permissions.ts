import type { GithubApi } from "./github-client.ts";

/** Roles that may start and cancel jobs: the ones that may push to the repository. */
const ALLOWED_ROLES = new Set(["admin", "maintain", "write"]);

export const WHO_MAY = "people with write, maintain or admin permission on the repository";

/**
 * Whether a user may run jobs, asked of GitHub's collaborators permission
 * API: a comment's `author_association` does not show private members of an
 * organisation's teams. Someone who is not a collaborator at all gets 404.
 */
export async function mayRunJobs(
  api: GithubApi,
  owner: string,
  repo: string,
  username: string,
): Promise<boolean> {
  try {
    const { data } = await api.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username });
    // role_name says maintain where the older `permission` field says write; either is enough.
    return ALLOWED_ROLES.has(data.role_name) || ALLOWED_ROLES.has(data.permission);
  } catch (thrown) {
    if ((thrown as { status?: number }).status === 404) return false;
    throw thrown;
  }
}
