import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * A local stand-in for GitHub's REST API: the one part of the bot that
 * cannot run here. It answers the calls the bot makes (DESIGN.md "GitHub
 * pull-request bot") with the status codes and fields GitHub documents, and
 * records every call. The bot reaches it only through MEMFARM_GITHUB_API_URL.
 */
export interface RecordedCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  authorization: string;
  at: number;
}

export interface PullRequestFixture {
  headSha: string;
  baseRef: string;
  /** `owner/name` of the head repository; another than the base for a PR from a fork. */
  headRepo?: string;
}

export class GithubStandIn {
  readonly calls: RecordedCall[] = [];
  /** Users' role on every repository; anyone else is not a collaborator (404). */
  readonly roles = new Map<string, "admin" | "maintain" | "write" | "triage" | "read">();
  readonly pulls = new Map<number, PullRequestFixture>();
  /** The merged pull request that brought each commit in (GET /repos/{o}/{r}/commits/{sha}/pulls). */
  readonly commitPulls = new Map<string, number>();
  /** The App's installation on every repository (GET /repos/{o}/{r}/installation). */
  installationId = 77;
  private readonly failures: { pattern: RegExp; status: number; times: number }[] = [];
  private nextId = 1000;
  private server: Server | null = null;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.answer(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  /** The next `times` calls whose "METHOD path" matches answer `status` (GitHub down: 502, 503). */
  failNext(pattern: RegExp, status: number, times: number): void {
    this.failures.push({ pattern, status, times });
  }

  /** GitHub is back. */
  clearFailures(): void {
    this.failures.length = 0;
  }

  callsTo(pattern: RegExp): RecordedCall[] {
    return this.calls.filter((call) => pattern.test(`${call.method} ${call.path}`));
  }

  /** Waits until `count` calls matching the pattern (and `where`, if given) have been made; returns the last. */
  async waitForCall(
    pattern: RegExp,
    timeoutMs = 120_000,
    count = 1,
    where: (call: RecordedCall) => boolean = () => true,
  ): Promise<RecordedCall> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.callsTo(pattern).filter(where);
      if (found.length >= count) return found[count - 1] as RecordedCall;
      if (Date.now() > deadline) {
        const seen = this.calls.map((c) => `${c.method} ${c.path}`).join("\n");
        throw new Error(`no call ${pattern} within ${timeoutMs} ms; calls:\n${seen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    this.calls.push({ method, path, body, authorization: req.headers.authorization ?? "", at: Date.now() });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(json));
    };
    const failure = this.failures.find((f) => f.times > 0 && f.pattern.test(`${method} ${path}`));
    if (failure) {
      failure.times -= 1;
      send(failure.status, { message: "Server Error (stand-in)" });
      return;
    }
    for (const [routeMethod, pattern, reply] of this.routes()) {
      const match = routeMethod === method ? pattern.exec(path) : null;
      if (match) {
        const [status, json] = reply(match, body);
        send(status, json);
        return;
      }
    }
    send(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
  }

  /** The documented calls the bot makes: method, path, and the answer GitHub gives. */
  private routes(): [
    string,
    RegExp,
    (match: RegExpExecArray, body: Record<string, unknown>) => [number, unknown],
  ][] {
    return [
      [
        "GET",
        /^\/repos\/[^/]+\/[^/]+\/collaborators\/([^/]+)\/permission$/,
        (match) => {
          const role = this.roles.get(match[1] as string);
          if (!role) return [404, { message: "Not Found" }];
          // GitHub's legacy `permission` folds maintain into write and triage into read.
          const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
          return [200, { permission, role_name: role, user: { login: match[1] } }];
        },
      ],
      [
        "GET",
        /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/,
        (match) => {
          const pr = this.pulls.get(Number(match[2]));
          if (!pr) return [404, { message: "Not Found" }];
          const base = match[1] as string;
          return [
            200,
            {
              number: Number(match[2]),
              state: "open",
              html_url: `https://github.com/${base}/pull/${match[2]}`,
              head: { sha: pr.headSha, ref: "feature", repo: { full_name: pr.headRepo ?? base } },
              base: { sha: "0".repeat(40), ref: pr.baseRef, repo: { full_name: base } },
            },
          ];
        },
      ],
      [
        "POST",
        /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/\d+\/reactions$/,
        (_match, body) => [201, { id: this.nextId++, content: body.content }],
      ],
      [
        "POST",
        /^\/repos\/[^/]+\/[^/]+\/check-runs$/,
        (_match, body) => [201, { id: this.nextId++, ...body }],
      ],
      [
        "PATCH",
        /^\/repos\/[^/]+\/[^/]+\/check-runs\/(\d+)$/,
        (match, body) => [200, { id: Number(match[1]), ...body }],
      ],
      [
        "POST",
        /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/,
        (match, body) => {
          const id = this.nextId++;
          const html_url = `https://github.com/${match[1]}/pull/${match[2]}#issuecomment-${id}`;
          return [201, { id, body: body.body, html_url }];
        },
      ],
      [
        "GET",
        /^\/repos\/([^/]+\/[^/]+)\/commits\/([0-9a-f]{40})\/pulls$/,
        (match) => {
          const number = this.commitPulls.get(match[2] as string);
          if (number === undefined) return [200, []];
          return [
            200,
            [
              {
                number,
                state: "closed",
                merged_at: new Date().toISOString(),
                html_url: `https://github.com/${match[1]}/pull/${number}`,
              },
            ],
          ];
        },
      ],
      ["GET", /^\/repos\/[^/]+\/[^/]+\/installation$/, () => [200, { id: this.installationId }]],
      ["DELETE", /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/labels\/[^/]+$/, () => [200, []]],
      [
        "POST",
        /^\/app\/installations\/\d+\/access_tokens$/,
        () => [
          201,
          {
            token: `ghs_standin${this.nextId++}`,
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
            permissions: { checks: "write", issues: "write", pull_requests: "write", metadata: "read" },
            repository_selection: "all",
          },
        ],
      ],
    ];
  }
}
