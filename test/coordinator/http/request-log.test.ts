import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../../protocol/logger.ts";
import { startFarm, type TestFarm } from "../../helpers/farm.ts";
import { findTestPython } from "../../helpers/python.ts";

/** The coordinator's log as an admin ships it: JSON lines, each HTTP request's lines naming its id. */
describe("the coordinator's request log", () => {
  const lines: Record<string, unknown>[] = [];
  let farm: TestFarm;
  before(async () => {
    const log = createLogger({
      level: "debug",
      format: "json",
      write: (line) => lines.push(JSON.parse(line)),
    });
    farm = await startFarm({ coordinatorLog: log });
  });
  after(async () => farm?.stop());

  const linesOf = (requestId: string) => lines.filter((line) => line.requestId === requestId);

  it("keeps a caller's plain request id, answers it, and puts it on the request's lines", async () => {
    const response = await fetch(`${farm.url}/api/v1/jobs`, { headers: { "x-request-id": "proxy-7f.3" } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-request-id"), "proxy-7f.3");
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [line] = linesOf("proxy-7f.3");
    assert.deepEqual(
      [line?.msg, line?.method, line?.path, line?.status],
      ["http request", "GET", "/api/v1/jobs", 200],
    );
    assert.equal(line?.level, "debug");
  });

  it("replaces an id that is not a plain token, and the submit's own log lines carry the new one", async () => {
    const response = await fetch(`${farm.url}/api/v1/jobs`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${farm.token}`,
        "content-type": "application/json",
        "x-request-id": "a b/../\u00e9",
      },
      body: JSON.stringify({ suite: "bigmem-smoke", python: findTestPython(), tests: ["test_bool"] }),
    });
    assert.equal(response.status, 201);
    const id = response.headers.get("x-request-id") ?? "";
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const messages = linesOf(id).map((line) => line.msg);
    assert.ok(messages.includes("http request"), messages.join(", "));
    assert.ok(
      messages.length >= 2,
      `a line of the coordinator's own work names the request: ${messages.join(", ")}`,
    );
  });
});
