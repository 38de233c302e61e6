import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Lifecycle } from "../../protocol/lifecycle.ts";
import { Releasers } from "../../protocol/releasers.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";

describe("a component's lifecycle", () => {
  it("changes in one setter that logs each change with where it came from", () => {
    const log = recordingLogger();
    const lifecycle = new Lifecycle<"created" | "running" | "stopped">("created", "scheduler", log);
    lifecycle.set("running", "scheduler running", { tickMs: 1000 });
    lifecycle.set("running"); // no change, no line
    lifecycle.set("stopped");
    assert.equal(lifecycle.state, "stopped");
    assert.ok(lifecycle.is("created", "stopped"));
    assert.deepEqual(
      log.records.map((record) => [record.message, record.fields.from, record.fields.to]),
      [
        ["scheduler running", "created", "running"],
        ["scheduler stopped", "running", "stopped"],
      ],
    );
  });
});

describe("releasers", () => {
  it("release what was started in reverse order, once, and go on past a step that fails", async () => {
    const released: string[] = [];
    const releasers = new Releasers();
    releasers.add("store", () => released.push("store"));
    releasers.add("nats", async () => {
      released.push("nats");
      throw new Error("already closed");
    });
    releasers.add("http", () => released.push("http"));
    const failures: string[] = [];
    assert.deepEqual(await releasers.releaseAll((name) => failures.push(name)), ["nats"]);
    assert.deepEqual(released, ["http", "nats", "store"]);
    assert.deepEqual(failures, ["nats"]);
    assert.deepEqual(await releasers.releaseAll(), [], "a second release does nothing");
    assert.deepEqual(released, ["http", "nats", "store"]);
  });
});
