import { Webhooks } from "@octokit/webhooks";
import express, { type Request, type Response, Router } from "express";
import { coerceError } from "../../protocol/errors.ts";
import type { Logger } from "../../protocol/logger.ts";
import type { DeliveriesStore } from "../store/github-deliveries-store.ts";

export interface WebhookRouteDeps {
  secret: string;
  maxPayloadBytes: number;
  deliveries: DeliveriesStore;
  /** Handles a verified, first-seen delivery after the answer is sent (GitHub waits 10 s at most). */
  dispatch: (event: string, payload: unknown) => void;
  log: Logger;
}

const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

/**
 * `POST /api/v1/github/webhook`, mounted before the JSON body parser: the body
 * is read raw, with its own size limit, and its `X-Hub-Signature-256` is
 * checked (octokit's constant-time HMAC comparison) before a byte of it is
 * parsed. A delivery id seen before is answered and not handled again.
 */
export function webhookRoute(deps: WebhookRouteDeps): Router {
  const webhooks = new Webhooks({ secret: deps.secret });
  const router = Router();
  router.post(
    "/",
    express.raw({ type: () => true, limit: deps.maxPayloadBytes }),
    (req: Request, res: Response, next) => {
      handleDelivery(req, res, webhooks, deps).catch(next);
    },
  );
  return router;
}

async function handleDelivery(req: Request, res: Response, webhooks: Webhooks, deps: WebhookRouteDeps) {
  const signature = req.get("x-hub-signature-256");
  const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (!signature || !(await verify(webhooks, raw, signature))) {
    deps.log.warn("GitHub webhook with a missing or wrong signature", { ip: req.ip });
    res.status(401).json({
      error: {
        code: "bad_signature",
        message: "X-Hub-Signature-256 is missing or does not match the webhook secret",
      },
    });
    return;
  }
  const event = req.get("x-github-event") ?? "";
  const delivery = req.get("x-github-delivery") ?? "";
  if (!EVENT_NAME.test(event) || !DELIVERY_ID.test(delivery)) {
    res.status(400).json({
      error: { code: "bad_delivery", message: "X-GitHub-Event and X-GitHub-Delivery are required" },
    });
    return;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(raw.toString("utf8"));
  } catch {
    res.status(400).json({ error: { code: "invalid_json", message: "the payload is not JSON" } });
    return;
  }
  if (event === "ping") {
    res.status(200).json({ ok: true });
    return;
  }
  if (!deps.deliveries.firstSeen(delivery, event)) {
    res.status(200).json({ duplicate: true });
    return;
  }
  res.status(202).json({ accepted: true });
  deps.dispatch(event, payload);
}

async function verify(webhooks: Webhooks, raw: Buffer, signature: string): Promise<boolean> {
  try {
    return await webhooks.verify(raw.toString("utf8"), signature);
  } catch (thrown) {
    // A malformed signature header makes the comparison throw; it is as good as a wrong one.
    void coerceError(thrown);
    return false;
  }
}
