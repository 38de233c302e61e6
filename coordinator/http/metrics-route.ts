import type { Request, Response } from "express";
import type { FarmMetrics } from "../metrics/farm-metrics.ts";

/** `GET /metrics` in Prometheus's text format, from the coordinator's metrics (coordinator/metrics/). */
export function metricsRoute(metrics: FarmMetrics) {
  return async (_req: Request, res: Response): Promise<void> => {
    res.type(metrics.contentType).send(await metrics.render());
  };
}
