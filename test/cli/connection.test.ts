import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { resolveConnection } from "../../cli/context.ts";

/** Which token a command sends where: the local farm's admin token stays on this machine. */
describe("the token a command sends", () => {
  const home = mkdtempSync(join(tmpdir(), "memfarm-connection-"));
  after(() => rmSync(home, { recursive: true, force: true }));
  // The default data dir is XDG_DATA_HOME/memfarm; it holds a local farm's admin token.
  const env = { XDG_DATA_HOME: join(home, "data"), XDG_CONFIG_HOME: join(home, "config"), HOME: home };
  mkdirSync(join(home, "data", "memfarm"), { recursive: true });
  writeFileSync(join(home, "data", "memfarm", "admin-token"), "local-admin-token\n");

  it("uses the local farm's admin token for a URL of this machine", () => {
    for (const url of ["http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:8080"]) {
      const connection = resolveConnection({ url }, env);
      assert.equal(connection.token, "local-admin-token", url);
    }
  });

  it("never sends it to another host, and says so", () => {
    const connection = resolveConnection({ url: "https://farm.example.org" }, env);
    assert.equal(connection.token, undefined);
    assert.match(connection.tokenFrom, /never sent to another host/);
    assert.match(connection.tokenFrom, /memfarm login https:\/\/farm\.example\.org/);
  });

  it("still sends a token given for it", () => {
    const connection = resolveConnection({ url: "https://farm.example.org", token: "given" }, env);
    assert.equal(connection.token, "given");
  });
});
