import type { BisectionResource, RegressionResource } from "../../protocol/resources.ts";
import { formatBytes } from "../../protocol/sizes.ts";
import type { GithubApi } from "./github-client.ts";

export interface CulpritLinks {
  regression: (id: number) => string;
  job: (id: number) => string;
}

/**
 * Tells the pull request that brought a regression's culprit in (found with GitHub's
 * `GET /repos/{owner}/{repo}/commits/{sha}/pulls`; the merged one if several): what grew, the
 * commit, the jobs that prove it, and a link back. Resolves to the comment's URL, or null when
 * the commit came in without a pull request (pushed directly).
 */
export async function commentOnCulprit(
  api: GithubApi,
  repository: string,
  regression: RegressionResource,
  bisection: BisectionResource,
  links: CulpritLinks,
): Promise<string | null> {
  const culprit = bisection.culprit;
  if (!culprit) return null;
  const [owner = "", repo = ""] = repository.split("/");
  const pulls = await api.rest.repos.listPullRequestsAssociatedWithCommit({
    owner,
    repo,
    commit_sha: culprit.sha,
  });
  const pull = pulls.data.find((one) => one.merged_at !== null) ?? pulls.data[0];
  if (!pull) return null;
  const comment = await api.rest.issues.createComment({
    owner,
    repo,
    issue_number: pull.number,
    body: culpritCommentBody(regression, bisection, links),
  });
  return comment.data.html_url;
}

export function culpritCommentBody(
  regression: RegressionResource,
  bisection: BisectionResource,
  links: CulpritLinks,
): string {
  const culprit = bisection.culprit;
  const confirmed = bisection.probes.filter((probe) => probe.purpose === "confirm");
  const before = confirmed.find((probe) => probe.sha !== culprit?.sha);
  const after = confirmed.find((probe) => probe.sha === culprit?.sha);
  const row = (name: string, probe: typeof before) =>
    probe
      ? `| ${name} | \`${probe.sha.slice(0, 12)}\` | [#${probe.jobId}](${links.job(probe.jobId)}) | ${formatBytes(probe.peakBytes)} | ${probe.outcome ?? "?"} |`
      : `| ${name} | ? | | | |`;
  const what =
    regression.kind === "memory"
      ? `a memory regression: \`${regression.test}\`'s peak grew past its noise`
      : `\`${regression.test}\` went from ${regression.goodOutcome ?? "?"} to ${regression.badOutcome ?? "?"}`;
  return [
    `**memfarm** bisected ${what}, watching \`${bisection.branch}\`, to this pull request's commit \`${culprit?.sha.slice(0, 12)}\` (${culprit?.subject ?? ""}).`,
    "",
    bisection.summary ?? "",
    "",
    "| | commit | job | peak | outcome |",
    "| --- | --- | --- | --- | --- |",
    row("before", before),
    row("after", after),
    "",
    `${bisection.probes.length} jobs in ${bisection.rounds} rounds; the whole search: [regression ${regression.id}](${links.regression(regression.id)}).`,
  ].join("\n");
}
