import type { Request, Response } from "express";
import type { Registry } from "prom-client";

/** `GET /metrics` in Prometheus's text format, from the coordinator's registry (coordinator/metrics/). */
export function metricsRoute(registry: Registry) {
  return async (_req: Request, res: Response): Promise<void> => {
    res.type(registry.contentType).send(await registry.metrics());
  };
}
