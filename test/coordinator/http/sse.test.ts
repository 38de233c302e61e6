import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { describe, it } from "node:test";
import type { Response } from "express";
import { MAX_UNSENT_BYTES, openEventStream } from "../../../coordinator/http/sse.ts";

/**
 * A client that stops reading an event stream must not make the coordinator buffer without
 * bound: past MAX_UNSENT_BYTES unsent, the stream is cut (the client reconnects and resumes).
 */
describe("server-sent event streams", () => {
  it("cuts a stream whose client does not read, with at most about MAX_UNSENT_BYTES held for it", async () => {
    let most = 0;
    let cut!: () => void;
    const wasCut = new Promise<void>((resolve) => {
      cut = resolve;
    });
    const event = { text: "x".repeat(64 * 1024) };
    const server = createServer((_req, res: ServerResponse) => {
      const stream = openEventStream(res as unknown as Response);
      res.once("close", () => {
        stream.close();
        cut();
      });
      const pump = () => {
        for (let n = 0; n < 16 && !res.destroyed; n += 1) {
          stream.send("flood", event);
          most = Math.max(most, res.writableLength);
        }
        if (!res.destroyed) setImmediate(pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const client = connect(port, "127.0.0.1");
    client.write("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    client.pause(); // reads nothing: the kernel's buffers fill, then the server's
    try {
      await Promise.race([
        wasCut,
        new Promise((_, reject) => setTimeout(() => reject(new Error("the stream was never cut")), 30_000)),
      ]);
      assert.ok(most <= MAX_UNSENT_BYTES + 2 * 65_600, `held ${most} bytes for one slow client`);
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
