import { createHmac, randomUUID } from "node:crypto";
import { createRequire } from "node:module";

/**
 * GitHub's own example payloads (@octokit/webhooks-examples), adapted to the
 * test's repository, pull request and commenter, and signed like GitHub signs them.
 */
const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: GitHub's examples are JSON of many shapes, adapted by the tests.
type Json = any;
const definitions = require("@octokit/webhooks-examples/api.github.com/index.json") as {
  name: string;
  examples: Json[];
}[];

function example(event: string, action: string, pick: (payload: Json) => boolean = () => true): Json {
  const found = definitions
    .find((definition) => definition.name === event)
    ?.examples.find((payload) => payload.action === action && pick(payload));
  if (!found) throw new Error(`no ${event}.${action} example in @octokit/webhooks-examples`);
  return structuredClone(found);
}

export interface RepoFixture {
  fullName: string;
  cloneUrl: string;
}

function adaptRepository(payload: Json, repo: RepoFixture): void {
  const [owner, name] = repo.fullName.split("/");
  payload.repository.full_name = repo.fullName;
  payload.repository.name = name;
  payload.repository.owner.login = owner;
  payload.repository.clone_url = repo.cloneUrl;
  payload.installation = { id: 42, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI=" };
}

let nextCommentId = 5000;

export function commentPayload(
  repo: RepoFixture,
  options: { body: string; user: string; pr?: number; action?: string; userType?: string; onIssue?: boolean },
): Json {
  const payload = example("issue_comment", "created", (p) => p.installation !== undefined);
  adaptRepository(payload, repo);
  payload.action = options.action ?? "created";
  payload.issue.number = options.pr ?? 1;
  if (options.onIssue) delete payload.issue.pull_request;
  else
    payload.issue.pull_request = {
      url: `https://api.github.com/repos/${repo.fullName}/pulls/${payload.issue.number}`,
    };
  payload.comment.id = nextCommentId++;
  payload.comment.body = options.body;
  payload.comment.html_url = `https://github.com/${repo.fullName}/pull/${payload.issue.number}#issuecomment-${payload.comment.id}`;
  payload.comment.user.login = options.user;
  payload.comment.user.type = options.userType ?? "User";
  payload.sender.login = options.user;
  payload.sender.type = options.userType ?? "User";
  return payload;
}

export function labeledPayload(
  repo: RepoFixture,
  options: { label: string; user: string; pr: number; headSha: string },
): Json {
  const payload = example("pull_request", "labeled");
  adaptRepository(payload, repo);
  payload.number = options.pr;
  payload.pull_request.number = options.pr;
  payload.pull_request.head.sha = options.headSha;
  payload.pull_request.base.ref = "main";
  payload.label.name = options.label;
  payload.sender.login = options.user;
  payload.sender.type = "User";
  return payload;
}

export interface Delivery {
  event: string;
  body: string;
  headers: Record<string, string>;
}

/** A delivery as GitHub sends it: X-GitHub-Event, X-GitHub-Delivery and X-Hub-Signature-256. */
export function signedDelivery(
  event: string,
  payload: Json,
  secret: string,
  deliveryId = randomUUID(),
): Delivery {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return {
    event,
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
  };
}

export async function deliver(
  farmUrl: string,
  delivery: Delivery,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`${farmUrl}/api/v1/github/webhook`, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.body,
  });
  return { status: response.status, body: await response.text() };
}
