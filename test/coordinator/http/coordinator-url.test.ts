import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { describe, it } from "node:test";
import { urlOf } from "../../../coordinator/coordinator.ts";

/** The URL printed at start, saved in the CLI profile and given to the PR bot as a fallback. */
describe("the coordinator's own URL", () => {
  const bound = async (host: string, use: (server: Server) => void) => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    try {
      use(server);
    } finally {
      server.close();
    }
  };

  it("reaches a wildcard listen address through loopback, with the port it got", async () => {
    await bound("0.0.0.0", (server) => {
      const url = urlOf(server, "0.0.0.0", 0);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(new URL(url).port, "0");
    });
  });

  it("puts IPv6 addresses in brackets, so that the URL parses", async (t) => {
    try {
      await bound("::", (server) => {
        assert.match(urlOf(server, "::", 0), /^http:\/\/\[::1\]:\d+$/);
        assert.equal(new URL(urlOf(server, "::1", 0)).hostname, "[::1]");
      });
    } catch (thrown) {
      if ((thrown as NodeJS.ErrnoException).code === "EAFNOSUPPORT") return t.skip("no IPv6 here");
      throw thrown;
    }
  });

  it("keeps a named or plain IPv4 host as given", async () => {
    await bound("127.0.0.1", (server) => {
      assert.match(urlOf(server, "127.0.0.1", 0), /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(urlOf(server, "localhost", 0), /^http:\/\/localhost:\d+$/);
    });
  });
});
