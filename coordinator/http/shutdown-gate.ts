import type { NextFunction, Request, Response } from "express";
import type { ApiErrorBody } from "../../protocol/resources.ts";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const SHUTTING_DOWN: ApiErrorBody = {
  error: {
    code: "shutting_down",
    message:
      "the coordinator is shutting down and takes no new work; try again once it is back (queued and running jobs are kept)",
  },
};

/**
 * Lets the HTTP server stop taking work without cutting requests short.
 * Once closed, calls that change the farm are answered 503 `shutting_down`
 * while reads still work; drained() resolves when the requests that were
 * already in flight have been answered. Event streams never end by
 * themselves, so they are not waited for (the server cuts them last).
 */
export class ShutdownGate {
  private closed = false;
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  get isClosed(): boolean {
    return this.closed;
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Express middleware; mount it before body parsing so a refused call is not read. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (this.closed && !READ_METHODS.has(req.method)) {
      res.status(503).set("retry-after", "30").json(SHUTTING_DOWN);
      return;
    }
    if (req.path.endsWith("/events")) {
      next();
      return;
    }
    this.inFlight += 1;
    res.once("close", () => {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.waiters.splice(0)) wake();
    });
    next();
  };

  close(): void {
    this.closed = true;
  }

  /** Whether the requests in flight were answered within `ms`. */
  async drained(ms: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<true>((resolve) => this.waiters.push(() => resolve(true)));
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([answered, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
