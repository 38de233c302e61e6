import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger, withLogContext } from "../../protocol/logger.ts";

describe("the logger", () => {
  it("writes JSON lines with time, level, msg and every context field, which cannot replace those three", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "json", write: (line) => lines.push(line) }).child({ agent: "arm1" });
    log.info("attempt started", {
      job: 12,
      attempt: "12-1",
      msg: "not the message",
      error: new Error("boom"),
    });
    const record = JSON.parse(lines[0] as string);
    assert.equal(record.level, "info");
    assert.equal(record.msg, "attempt started");
    assert.ok(!Number.isNaN(Date.parse(record.time)));
    assert.deepEqual([record.agent, record.job, record.attempt, record.error], ["arm1", 12, "12-1", "boom"]);
  });

  it("drops lines below its level, in both formats", () => {
    for (const format of ["text", "json"] as const) {
      const lines: string[] = [];
      const log = createLogger({ level: "warn", format, write: (line) => lines.push(line) });
      log.debug("quiet");
      log.info("quiet");
      log.warn("loud");
      log.error("louder");
      assert.equal(lines.length, 2, format);
    }
  });

  it("adds the fields of the work in progress to every line logged within it, also after an await", async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (line) => lines.push(line) });
    await withLogContext({ requestId: "r-1" }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      withLogContext({ job: 7 }, () => log.info("inner"));
      log.info("outer");
    });
    log.info("outside");
    assert.match(lines[0] as string, / inner requestId=r-1 job=7$/);
    assert.match(lines[1] as string, / outer requestId=r-1$/);
    assert.match(lines[2] as string, / outside$/);
  });
});
