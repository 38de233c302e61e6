import type { Response } from "express";
import { ALL_STATUSES } from "../../protocol/job-status.ts";
import type { Store } from "../store/store.ts";
import { type FormState, FRESH_FORM } from "./form-state.ts";
import { filterQuery, readJobListFilter } from "./job-list-filter.ts";
import { fmt, jsonForScript } from "./view-format.ts";

const PAGE_SIZE = 50;

export interface JobListPageDeps {
  store: Store;
  suiteNames: string[];
  exampleSubmit: string;
}

/** One status's link on the job list: how many jobs the other filters match with it. */
export interface StatusLink {
  status: string | null;
  count: number;
  query: string;
  current: boolean;
}

/**
 * The job list with its filters, per-status counts and submit form. `submit` is a refused
 * submission to show again (POST /jobs), with the form open, its values and its error.
 */
export function renderJobList(
  res: Response,
  deps: JobListPageDeps,
  query: Record<string, unknown>,
  submit: FormState = FRESH_FORM,
  status = 200,
): void {
  const filter = readJobListFilter(query, deps.suiteNames);
  const page = deps.store.jobs.list({ ...filter, limit: PAGE_SIZE, before: filter.cursor });
  const { status: _status, cursor: _cursor, ...others } = filter;
  const counts = deps.store.jobs.countByStatus(others);
  const statusLinks: StatusLink[] = [
    {
      status: null,
      count: Object.values(counts).reduce((sum, count) => sum + count, 0),
      query: filterQuery(others),
      current: filter.status === undefined,
    },
    // Every status that has jobs, and the one filtered by even when it has none.
    ...ALL_STATUSES.filter((name) => (counts[name] ?? 0) > 0 || filter.status === name).map((name) => ({
      status: name,
      count: counts[name] ?? 0,
      query: filterQuery({ ...others, status: name }),
      current: filter.status === name,
    })),
  ];
  res.status(status).render("jobs", {
    fmt,
    jsonForScript,
    jobs: page.jobs,
    nextQuery: page.nextCursor ? filterQuery(filter, page.nextCursor) : null,
    firstQuery: filter.cursor === undefined ? null : filterQuery(filter),
    // New jobs appear live on the first page only; older pages stay put.
    live: filter.cursor === undefined,
    filter,
    statusLinks,
    statuses: ALL_STATUSES,
    suites: deps.suiteNames,
    exampleSubmit: deps.exampleSubmit,
    submit,
  });
}
