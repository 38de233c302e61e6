import { ALL_STATUSES } from "../../protocol/job-status.ts";
import { isAgentName } from "../../protocol/names.ts";

/** The job list's filters as the page's form sends them; unusable values are dropped, not errors. */
export interface JobListFilter {
  status?: string;
  suite?: string;
  agent?: string;
  /** A git ref as stored with the job; a pull request number becomes `pull/N/head`. */
  ref?: string;
  cursor?: number;
}

const REF_TEXT = /^[A-Za-z0-9._/+-]{1,200}$/;
/** "#123", "PR 123", "pr123", or a bare number too short to be a commit SHA: a pull request. */
const PULL_REQUEST = /^(?:(?:#|pr\s*)([1-9][0-9]{0,9})|([1-9][0-9]{0,5}))$/i;

export function readJobListFilter(query: Record<string, unknown>, suiteNames: string[]): JobListFilter {
  const text = (key: string) => (typeof query[key] === "string" ? (query[key] as string).trim() : "");
  const filter: JobListFilter = {};
  const status = text("status");
  if ((ALL_STATUSES as readonly string[]).includes(status)) filter.status = status;
  const suite = text("suite");
  if (suiteNames.includes(suite)) filter.suite = suite;
  const agent = text("host");
  if (isAgentName(agent)) filter.agent = agent;
  const ref = text("ref");
  const pull = PULL_REQUEST.exec(ref);
  if (pull) filter.ref = `pull/${pull[1] ?? pull[2]}/head`;
  else if (REF_TEXT.test(ref)) filter.ref = ref;
  const cursor = text("cursor");
  if (/^\d{1,15}$/.test(cursor)) filter.cursor = Number(cursor);
  return filter;
}

/** The query string of a filter (without the cursor unless given), for links. */
export function filterQuery(filter: JobListFilter, cursor?: string | null): string {
  const params = new URLSearchParams();
  if (filter.status) params.set("status", filter.status);
  if (filter.suite) params.set("suite", filter.suite);
  if (filter.agent) params.set("host", filter.agent);
  if (filter.ref) params.set("ref", filter.ref);
  if (cursor) params.set("cursor", cursor);
  return params.toString();
}
