import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GithubClients } from "../../../coordinator/github/github-client.ts";
import { compileGithubConfig, type GithubConfig } from "../../../coordinator/github/github-config.ts";
import { silentLogger } from "../../../protocol/logger.ts";
import { GithubStandIn } from "./github-stand-in.ts";

/**
 * GitHub App authentication against a local stand-in of GitHub's REST API
 * (it cannot run here): the App's JWT buys an installation token, which the
 * calls then carry, and which is reused while it is valid.
 */
describe("authenticating as a GitHub App", () => {
  let github: GithubStandIn;
  let dir: string;
  let config: GithubConfig;
  before(async () => {
    github = new GithubStandIn();
    await github.start();
    dir = mkdtempSync(join(tmpdir(), "memfarm-app-key-"));
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(dir, "app.pem"), privateKey.export({ type: "pkcs1", format: "pem" }));
    config = compileGithubConfig({
      webhookSecret: "a-webhook-secret-for-tests-only",
      apiUrl: github.url,
      appId: "12345",
      privateKeyFile: join(dir, "app.pem"),
      repos: "python/cpython",
    }) as GithubConfig;
  });
  after(async () => {
    await github.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gets an installation token with the App's JWT and uses it for the installation's calls", async () => {
    github.roles.set("maintainer", "write");
    const api = new GithubClients(config, silentLogger).forInstallation(42);
    await api.rest.repos.getCollaboratorPermissionLevel({
      owner: "python",
      repo: "cpython",
      username: "maintainer",
    });
    await api.rest.repos.getCollaboratorPermissionLevel({
      owner: "python",
      repo: "cpython",
      username: "maintainer",
    });
    const tokenCalls = github.callsTo(/^POST \/app\/installations\/42\/access_tokens$/);
    assert.equal(tokenCalls.length, 1, "the installation token is cached");
    assert.match(
      (tokenCalls[0] as { authorization: string }).authorization,
      /^bearer [\w-]+\.[\w-]+\.[\w-]+$/i,
    );
    for (const call of github.callsTo(/^GET /)) assert.match(call.authorization, /^token ghs_standin\d+$/);
  });

  it("refuses to start without a readable private key", () => {
    assert.throws(
      () =>
        new GithubClients(
          { ...config, auth: { kind: "app", appId: 1, privateKeyFile: join(dir, "missing.pem") } },
          silentLogger,
        ),
      /MEMFARM_GITHUB_PRIVATE_KEY_FILE/,
    );
  });
});
