import { type Request, Router } from "express";
import { ValidationError } from "../../protocol/errors.ts";
import { parseJobId } from "../../protocol/ids.ts";
import { ALL_STATUSES } from "../../protocol/job-status.ts";
import { checkAgentName } from "../../protocol/names.ts";
import { OWN_VERSION, type SpokenVersion } from "../../protocol/protocol-version.ts";
import type {
  AgentResource,
  CoordinatorVersionResource,
  JobResource,
  WhoamiResource,
} from "../../protocol/resources.ts";
import type { FarmEvents } from "../attempts/farm-events.ts";
import { chartData } from "../dashboard/chart-data.ts";
import { compareJobs } from "../dashboard/compare-tests.ts";
import { MAX_BUCKETS, MIN_BUCKETS } from "../dashboard/downsample.ts";
import { readTestSort, sortTests, TEST_SORT_KEYS } from "../dashboard/test-table.ts";
import type { HostOperations } from "../hosts/host-operations.ts";
import type { JobService } from "../jobs/job-service.ts";
import { takenLines } from "../nats/agent-versions.ts";
import type { NatsAuthority } from "../nats/credentials/nats-authority.ts";
import type { Store } from "../store/store.ts";
import type { WatchService } from "../watches/watch-service.ts";
import { streamFarmEvents } from "./farm-events-stream.ts";
import { AuthError, adapt } from "./handler.ts";
import { hostRoutes } from "./host-routes.ts";
import { streamJobEvents } from "./job-events-stream.ts";
import { expectNoBody } from "./json-body.ts";
import { regressionRoutes } from "./regression-routes.ts";
import { tokenRoutes } from "./token-routes.ts";
import { watchRoutes } from "./watch-routes.ts";

export interface ApiDeps {
  store: Store;
  jobs: JobService;
  events: FarmEvents;
  wakeScheduler: () => void;
  natsAuthority: NatsAuthority;
  hostOperations: HostOperations;
  watches: WatchService;
  /** The coordinator's own release and protocol (GET /agents says it beside the agents'). */
  version?: SpokenVersion;
}

const MAX_PAGE = 500;

/** How an HTTP client sends a token, and where a person gets one. */
const SEND_TOKEN =
  "send the API token as Authorization: Bearer TOKEN (memfarm tokens create NAME issues one; the CLI takes --token or MEMFARM_TOKEN; a local farm keeps one in DATA_DIR/admin-token)";
const NO_TOKEN = `this call needs an API token: ${SEND_TOKEN}`;

/** The `/api/v1` routes (DESIGN.md "HTTP API"). Reading is open; changing needs a bearer token. */
export function apiRoutes(deps: ApiDeps): Router {
  const { store, jobs } = deps;
  const router = Router();
  const authenticate = (req: Request): string => {
    const header = req.get("authorization");
    if (header === undefined || header.trim() === "") throw new AuthError(NO_TOKEN);
    const token = /^Bearer (\S+)$/i.exec(header.trim())?.[1];
    if (!token) {
      throw new AuthError(
        `the Authorization header must be "Bearer TOKEN" (one space, then the token); ${SEND_TOKEN}`,
      );
    }
    const owner = store.tokens.ownerOf(token);
    if (!owner) {
      throw new AuthError(
        "the token is not valid (unknown or revoked); ask the farm's admin for a new one (memfarm tokens create NAME)",
        "invalid_token",
      );
    }
    return owner;
  };

  router.get(
    "/jobs",
    adapt(({ query }) => {
      if (query.status !== undefined && !(ALL_STATUSES as readonly string[]).includes(query.status)) {
        throw new ValidationError(
          "invalid_status",
          `status must be one of ${ALL_STATUSES.join(", ")}`,
          "status",
        );
      }
      const limit = query.limit === undefined ? 50 : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
        throw new ValidationError(
          "invalid_limit",
          `limit must be a whole number from 1 to ${MAX_PAGE}`,
          "limit",
        );
      }
      const before = query.cursor === undefined ? undefined : Number(query.cursor);
      if (before !== undefined && !Number.isInteger(before)) {
        throw new ValidationError(
          "invalid_cursor",
          "cursor must be the nextCursor of a previous page",
          "cursor",
        );
      }
      const pr = query.pr === undefined ? undefined : Number(query.pr);
      if (pr !== undefined && !(Number.isInteger(pr) && pr > 0)) {
        throw new ValidationError("invalid_pr", "pr must be a pull request number, like 12345", "pr");
      }
      return {
        status: 200,
        body: store.jobs.list({
          status: query.status,
          suite: query.suite,
          agent: query.agent,
          ref: query.ref,
          repository: query.repository,
          pullRequest: pr,
          limit,
          before,
        }),
      };
    }),
  );
  router.post(
    "/jobs",
    adapt(
      async ({ body, requester }) => ({ status: 201, body: await jobs.submit(body, requester) }),
      authenticate,
    ),
  );
  router.get("/events", (req, res) => {
    streamFarmEvents({ req, res, events: deps.events });
  });
  router.get(
    "/jobs/:id",
    adapt(({ params }) => ({ status: 200, body: jobs.find(parseJobId(params.id)) })),
  );
  router.get(
    "/jobs/:id/samples",
    adapt(({ params, query }) => {
      const job = jobs.find(parseJobId(params.id));
      // With ?buckets=N: what a chart draws (min and max per time bucket, limits, test starts).
      if (query.buckets !== undefined) {
        const buckets = Number(query.buckets);
        if (!Number.isInteger(buckets) || buckets < MIN_BUCKETS || buckets > MAX_BUCKETS) {
          throw new ValidationError(
            "invalid_buckets",
            `buckets must be a whole number from ${MIN_BUCKETS} to ${MAX_BUCKETS}`,
            "buckets",
          );
        }
        const data = chartData(
          job,
          store.samples.chartPoints(job.id, buckets),
          store.tests.list(job.id),
          buckets,
        );
        return { status: 200, body: data };
      }
      return {
        status: 200,
        body: {
          jobId: job.id,
          peakRssBytes: job.peakRssBytes,
          // "minute" once retention folded the job's samples: one per minute, at its highest memory.
          resolution: store.samples.resolution(job.id),
          samples: store.samples.read(job.id),
        },
      };
    }),
  );
  router.get(
    "/jobs/:id/tests",
    adapt(({ params, query }) => {
      const job = jobs.find(parseJobId(params.id));
      const tests = store.tests.list(job.id);
      // ?sort=peak (ascending) or -peak (descending), as the job page's table sorts.
      if (query.sort !== undefined) {
        const key = query.sort.replace(/^-/, "");
        if (!(TEST_SORT_KEYS as readonly string[]).includes(key)) {
          throw new ValidationError(
            "invalid_sort",
            `sort must be one of ${TEST_SORT_KEYS.join(", ")}, with a leading - for largest first`,
            "sort",
          );
        }
        return { status: 200, body: { jobId: job.id, tests: sortTests(tests, readTestSort(query.sort)) } };
      }
      return { status: 200, body: { jobId: job.id, tests } };
    }),
  );
  // Two jobs' tests side by side, largest change first (`memfarm compare`, a pull request against its base).
  router.get(
    "/compare",
    adapt(({ query }) => {
      const [base, head] = (["base", "head"] as const).map((side) => {
        const text = query[side];
        if (text === undefined) {
          throw new ValidationError(
            "missing_field",
            `${side} must be a job id: /compare?base=BASE_JOB&head=HEAD_JOB`,
            side,
          );
        }
        return jobs.find(parseJobId(text, side));
      }) as [JobResource, JobResource];
      return {
        status: 200,
        body: compareJobs(base, store.tests.list(base.id), head, store.tests.list(head.id)),
      };
    }),
  );
  router.get("/jobs/:id/log", (req, res, next) => {
    try {
      const job = jobs.find(parseJobId(req.params.id));
      const after = Number(req.query.after ?? 0);
      if (!Number.isInteger(after) || after < 0) {
        throw new ValidationError(
          "invalid_after",
          "after must be a line number (0 for the whole log)",
          "after",
        );
      }
      const lines = store.logs.read(job.id, after);
      if (req.query.format === "text" || req.accepts(["json", "text"]) === "text") {
        res.type("text/plain; charset=utf-8").send(lines.map((line) => `${line.text}\n`).join(""));
      } else {
        res.json({ jobId: job.id, status: job.status, archived: store.logs.archive(job.id), lines });
      }
    } catch (thrown) {
      next(thrown);
    }
  });
  router.get("/jobs/:id/events", (req, res, next) => {
    try {
      const job = jobs.find(parseJobId(req.params.id));
      streamJobEvents({ req, res, store, events: deps.events, jobId: job.id });
    } catch (thrown) {
      next(thrown);
    }
  });
  router.post(
    "/jobs/:id/cancel",
    adapt(async ({ params, body }) => {
      expectNoBody(body);
      return { status: 200, body: await jobs.cancel(parseJobId(params.id)) };
    }, authenticate),
  );
  router.post(
    "/jobs/:id/retry",
    adapt(async ({ params, body, requester }) => {
      expectNoBody(body);
      return { status: 201, body: await jobs.retry(parseJobId(params.id), requester) };
    }, authenticate),
  );
  router.get(
    "/agents",
    adapt(() => ({
      status: 200,
      body: { agents: listAgents(store), coordinator: coordinatorVersion(deps.version ?? OWN_VERSION) },
    })),
  );
  for (const action of ["drain", "undrain"] as const) {
    router.post(
      `/agents/:name/${action}`,
      adapt(({ params, body }) => {
        expectNoBody(body);
        const name = checkAgentName(params.name ?? "");
        if (!store.agents.setDrained(name, action === "drain")) {
          throw new ValidationError(
            "unknown_agent",
            `agent ${name} has never joined; memfarm hosts lists the agents`,
            "name",
          );
        }
        deps.wakeScheduler();
        return { status: 200, body: listAgents(store).find((agent) => agent.name === name) };
      }, authenticate),
    );
  }
  router.post(
    "/agents/:name/credentials",
    adapt(
      async ({ params }) => ({
        status: 201,
        body: await deps.natsAuthority.issue(params.name ?? ""),
      }),
      authenticate,
    ),
  );
  router.post(
    "/agents/:name/revoke",
    adapt(
      async ({ params }) => ({
        status: 200,
        body: await deps.natsAuthority.revoke(params.name ?? ""),
      }),
      authenticate,
    ),
  );
  // Whom a token belongs to; it changes nothing, so `memfarm login` can check a token before saving it.
  router.get(
    "/whoami",
    adapt(({ requester }) => {
      const body: WhoamiResource = { owner: requester };
      return { status: 200, body };
    }, authenticate),
  );
  router.use("/tokens", tokenRoutes(authenticate, store.tokens));
  router.use("/hosts", hostRoutes(authenticate, store.hosts, deps.hostOperations));
  router.use("/watches", watchRoutes(authenticate, deps.watches));
  router.use("/regressions", regressionRoutes(authenticate, store.regressions, store.bisections));
  return router;
}

export function coordinatorVersion(version: SpokenVersion): CoordinatorVersionResource {
  return {
    version: version.release ?? "0.0.0",
    protocolVersion: version.protocol,
    takesAgents: takenLines(version),
  };
}

export function listAgents(store: Store): AgentResource[] {
  return store.agents.list(store.jobs.reservedByAgent(), store.jobs.activeJobsByAgent());
}
