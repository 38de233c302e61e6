import type { Request, Response } from "express";
import { SHUTTING_DOWN, type ShutdownGate } from "./shutdown-gate.ts";

/** One part the coordinator needs to do its work (its database, its NATS), as it is now. */
export interface HealthCheck {
  ok: boolean;
  /** What is wrong, or extra facts a person wants (an embedded nats-server's restarts). */
  detail?: string;
}

export type HealthChecks = () => Record<string, HealthCheck>;

/**
 * `/healthz`: 200 `{ok: true, checks}` when the coordinator can take work, else 503 with the first
 * failing part's problem as the error (and all checks), so a load balancer moves on and a person
 * reads why. A stopping coordinator says so first.
 */
export function healthRoute(gate: ShutdownGate, checks: HealthChecks) {
  return (_req: Request, res: Response): void => {
    if (gate.isClosed) {
      res.status(503).json({ ok: false, ...SHUTTING_DOWN });
      return;
    }
    const now = checks();
    const failing = Object.entries(now).find(([, check]) => !check.ok);
    if (!failing) {
      res.json({ ok: true, checks: now });
      return;
    }
    const [part, check] = failing;
    res.status(503).json({
      ok: false,
      error: { code: `${part}_unavailable`, message: check.detail ?? `${part} is not available` },
      checks: now,
    });
  };
}
