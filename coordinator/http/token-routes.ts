import { type Request, Router } from "express";
import { ConflictError, NotFoundError, ValidationError } from "../../protocol/errors.ts";
import { parseTokenId } from "../../protocol/ids.ts";
import type { CreatedTokenResource } from "../../protocol/resources.ts";
import { readObject } from "../../protocol/validate.ts";
import type { TokensStore } from "../store/tokens-store.ts";
import { ADMIN_OWNER } from "./admin-token.ts";
import { adapt, ForbiddenError } from "./handler.ts";
import { expectNoBody } from "./json-body.ts";

const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function requireAdmin(requester: string): void {
  if (requester !== ADMIN_OWNER) {
    throw new ForbiddenError(
      `only the farm's admin token manages tokens (this one belongs to ${requester}); ask the farm's admin`,
    );
  }
}

function readOwner(body: unknown): string {
  const fields = readObject(body ?? null, "the request body");
  const unknown = Object.keys(fields).filter((key) => key !== "owner");
  if (unknown.length > 0) {
    throw new ValidationError(
      "unknown_field",
      `unknown field ${unknown[0]}; a token request has only "owner"`,
      unknown[0],
    );
  }
  const owner = fields.owner;
  if (typeof owner !== "string" || !OWNER_PATTERN.test(owner)) {
    throw new ValidationError(
      "invalid_owner",
      "owner must be a name of 1 to 64 letters, digits, '.', '_', '@' or '-' (who or what will use the token)",
      "owner",
    );
  }
  if (owner === ADMIN_OWNER) {
    throw new ValidationError(
      "reserved_owner",
      `"${ADMIN_OWNER}" is the farm's own token; pick another owner`,
      "owner",
    );
  }
  return owner;
}

/**
 * `/tokens`: create, list and revoke API tokens (admin only). Secrets are
 * shown once, at creation; a revoked token is refused from the next request on.
 */
export function tokenRoutes(authenticate: (req: Request) => string, tokens: TokensStore): Router {
  const router = Router();
  router.post(
    "/",
    adapt(({ body, requester }) => {
      requireAdmin(requester);
      const { token, record } = tokens.issue(readOwner(body));
      const created: CreatedTokenResource = { ...record, token };
      return { status: 201, body: created };
    }, authenticate),
  );
  router.get(
    "/",
    adapt(({ requester }) => {
      requireAdmin(requester);
      return { status: 200, body: { tokens: tokens.list() } };
    }, authenticate),
  );
  router.post(
    "/:id/revoke",
    adapt(({ params, body, requester }) => {
      requireAdmin(requester);
      expectNoBody(body);
      const id = parseTokenId(params.id);
      const existing = tokens.get(id);
      if (!existing) throw new NotFoundError(`token ${id} does not exist; memfarm tokens list shows them`);
      if (existing.owner === ADMIN_OWNER) {
        throw new ConflictError(
          "admin_token",
          "the admin token cannot be revoked over the API; to rotate it, delete DATA_DIR/admin-token and restart the coordinator",
        );
      }
      return { status: 200, body: tokens.revoke(id) };
    }, authenticate),
  );
  return router;
}
