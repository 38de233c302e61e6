import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CreatedTokenResource, TokenResource } from "../../../protocol/resources.ts";
import { runCli } from "../../helpers/cli.ts";
import { startFarm, type TestFarm } from "../../helpers/farm.ts";

describe("revocable API tokens, through the CLI and the API", () => {
  let farm: TestFarm;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    farm = await startFarm({ agentName: "token-agent" });
    // The CLI finds the admin token in the farm's data dir, as on a local farm.
    env = { MEMFARM_URL: farm.url, MEMFARM_DATA_DIR: join(farm.dir, "data"), MEMFARM_TOKEN: "" };
  });
  after(async () => {
    await farm?.stop();
  });

  it("creates a named token that works, lists it without its secret, and a revoked token gets 401 at once", async () => {
    const create = await runCli(["tokens", "create", "alice", "--json"], env);
    assert.equal(create.code, 0, create.stderr);
    const alice = JSON.parse(create.stdout) as CreatedTokenResource;
    assert.equal(alice.owner, "alice");
    assert.match(alice.token, /^mf_/);

    const asAlice = { ...env, MEMFARM_TOKEN: alice.token };
    const drain = await runCli(["hosts", "drain", "token-agent"], asAlice);
    assert.equal(drain.code, 0, drain.stderr);
    assert.equal((await runCli(["hosts", "undrain", "token-agent"], asAlice)).code, 0);

    const list = await runCli(["tokens", "list", "--json"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, /mf_|sha256/, "no secrets or hashes in the list");
    const { tokens } = JSON.parse(list.stdout) as { tokens: TokenResource[] };
    assert.deepEqual(
      tokens.map((token) => [token.owner, token.revokedAt]),
      [
        ["admin", null],
        ["alice", null],
      ],
    );
    assert.match((await runCli(["tokens"], env)).stdout, /ID\s+OWNER\s+CREATED\s+REVOKED\n1\s+admin/);

    const revoke = await runCli(["tokens", "revoke", String(alice.id)], env);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match(revoke.stdout, new RegExp(`token ${alice.id} of alice revoked at \\d{4}-`));
    const refused = await farm.api("/agents/token-agent/drain", { body: {}, token: alice.token });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, "unauthorized");
    const cli = await runCli(["hosts", "drain", "token-agent"], asAlice);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /not valid \(unknown or revoked\)/);
  });

  it("GET /whoami names a token's owner, and refuses a missing or unknown token", async () => {
    assert.deepEqual((await farm.api("/whoami")).body, { owner: "admin" });
    const carol = (await farm.api("/tokens", { body: { owner: "carol" } })).body as CreatedTokenResource;
    assert.deepEqual((await farm.api("/whoami", { token: carol.token })).body, { owner: "carol" });
    assert.equal((await farm.api("/whoami", { token: null })).status, 401);
    assert.equal((await farm.api("/whoami", { token: "mf_not-a-token" })).status, 401);
  });

  it("a 401 tells an HTTP client to send Authorization: Bearer, in its text and its WWW-Authenticate", async () => {
    const refusal = async (path: string, authorization?: string) => {
      const response = await fetch(`${farm.url}/api/v1${path}`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      const body = (await response.json()) as { error: { code: string; message: string } };
      return { status: response.status, challenge: response.headers.get("www-authenticate"), ...body.error };
    };
    const none = await refusal("/whoami");
    assert.equal(none.status, 401);
    assert.equal(none.code, "unauthorized");
    assert.equal(none.challenge, 'Bearer realm="memfarm"');
    assert.match(
      none.message,
      /^this call needs an API token: send the API token as Authorization: Bearer TOKEN/,
    );
    assert.match(none.message, /memfarm tokens create NAME/);
    assert.doesNotMatch(none.message, /changes the farm/, "asking whose token it is changes nothing");

    const basic = await refusal("/whoami", "Basic YWRtaW46eA==");
    assert.equal(basic.status, 401);
    assert.match(basic.message, /the Authorization header must be "Bearer TOKEN"/);

    const unknown = await refusal("/whoami", "Bearer mf_not-a-token");
    assert.equal(unknown.challenge, 'Bearer realm="memfarm", error="invalid_token"');
    assert.match(unknown.message, /not valid \(unknown or revoked\)/);

    const retry = await fetch(`${farm.url}/api/v1/jobs/1/retry`, { method: "POST" });
    assert.equal(retry.status, 401);
    assert.match(retry.headers.get("www-authenticate") ?? "", /^Bearer/);
  });

  it("only the admin token manages tokens, and the admin token cannot be revoked over the API", async () => {
    const bob = (await farm.api("/tokens", { body: { owner: "bob" } })).body as CreatedTokenResource;
    const mint = await farm.api("/tokens", { body: { owner: "mallory" }, token: bob.token });
    assert.equal(mint.status, 403);
    assert.equal(mint.body.error.code, "forbidden");
    assert.equal((await farm.api("/tokens", { token: bob.token })).status, 403);
    assert.equal((await farm.api("/tokens", { token: null })).status, 401);
    const admin = await farm.api("/tokens/1/revoke", { body: {} });
    assert.equal(admin.status, 409);
    assert.match(admin.body.error.message, /delete DATA_DIR\/admin-token/);
    assert.equal((await farm.api("/tokens/999/revoke", { body: {} })).status, 404);
    const bad = await runCli(["tokens", "create", "not a name"], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /owner must be a name/);
    assert.equal((await runCli(["tokens", "revoke", "x"], env)).code, 2);
  });
});
