import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadSettings } from "../../../cli/settings/resolve.ts";
import { agentFrom, configDir, coordinatorFrom } from "./settings-helpers.ts";

describe("where a setting comes from: flag, then environment, then file, then default", () => {
  const { dir, write } = configDir();
  const file = write(
    "memfarm.toml",
    [
      "[coordinator]",
      "port = 9100",
      'dataDir = "farm-data"',
      'headroom = "2G"',
      'lostAfter = "30s"',
      "[agent]",
      'nats = ["nats://n1:4222", "nats://n2:4222"]',
      'creds = "arm1.nk"',
      'name = "arm1"',
      'labels = { pool = "bigmem", rack = "b" }',
      "sampleIntervalMs = 250",
      "allowLocalRepos = true",
      'drainTimeout = "1h"',
      "[log]",
      'level = "warn"',
    ].join("\n"),
  );

  it("takes the file's values over the defaults, relative paths from the file's folder", () => {
    const config = coordinatorFrom({ config: file });
    assert.equal(config.port, 9100);
    assert.equal(config.dataDir, join(dir, "farm-data"));
    assert.equal(config.headroomBytes, 2 * 1024 ** 3);
    assert.equal(config.lostAfterMs, 30_000);
    assert.equal(config.maxAttempts, 3, "what the file does not say keeps its default");
    const agent = agentFrom({ config: file });
    assert.deepEqual(agent.natsServers, ["nats://n1:4222", "nats://n2:4222"]);
    assert.equal(agent.credsFile, join(dir, "arm1.nk"));
    assert.deepEqual(agent.labels, { pool: "bigmem", rack: "b" });
    assert.equal(agent.sampleIntervalMs, 250);
    assert.equal(agent.allowLocalRepos, true);
    assert.equal(agent.drainTimeoutMs, 3_600_000);
  });

  it("lets the environment override the file, and a flag override both", () => {
    assert.equal(coordinatorFrom({ config: file }, { MEMFARM_PORT: "9200" }).port, 9200);
    assert.equal(coordinatorFrom({ config: file, port: "9300" }, { MEMFARM_PORT: "9200" }).port, 9300);
    assert.equal(coordinatorFrom({ config: file }, { MEMFARM_DATA_DIR: "/srv/farm" }).dataDir, "/srv/farm");
    assert.equal(coordinatorFrom({ config: file, "lost-after": "1m" }).lostAfterMs, 60_000);
    assert.equal(agentFrom({ config: file, name: "arm2", "sample-interval-ms": "1s" }).name, "arm2");
    assert.equal(agentFrom({ config: file, "sample-interval-ms": "1s" }).sampleIntervalMs, 1000);
    const log = (flags: Record<string, string>, env: NodeJS.ProcessEnv) =>
      loadSettings("coordinator", { config: file, ...flags }, env).get("log.level");
    assert.deepEqual(log({}, {}), { value: "warn", from: `${file}: log.level` });
    assert.deepEqual(log({}, { MEMFARM_LOG_LEVEL: "debug" }), { value: "debug", from: "MEMFARM_LOG_LEVEL" });
    assert.deepEqual(log({ "log-level": "error" }, { MEMFARM_LOG_LEVEL: "debug" }), {
      value: "error",
      from: "--log-level",
    });
  });

  it("counts an empty variable as unset, as `VAR= memfarm ...` means", () => {
    assert.equal(coordinatorFrom({ config: file }, { MEMFARM_PORT: "" }).port, 9100);
  });

  it("names the place a refused value came from", () => {
    assert.throws(
      () => coordinatorFrom({ config: file }, { MEMFARM_PORT: "eighty" }),
      /^ValidationError: MEMFARM_PORT must be a port/,
    );
    assert.throws(
      () => coordinatorFrom({ config: file, "lost-after": "1s" }),
      (thrown: Error) => thrown.message.startsWith("--lost-after: "),
    );
  });

  it("reads MEMFARM_CONFIG when no --config is given, and --config over it", () => {
    const other = write("other.json", JSON.stringify({ coordinator: { port: 9400 } }));
    assert.equal(coordinatorFrom({}, { MEMFARM_CONFIG: file }).port, 9100);
    assert.equal(coordinatorFrom({ config: other }, { MEMFARM_CONFIG: file }).port, 9400);
    assert.equal(coordinatorFrom({}, {}).port, 8080, "no file: the default");
  });

  it("takes a secret from the environment's VARIABLE_FILE or the file's KEYFile, the environment first", () => {
    write("webhook-secret", "from-the-secret-file-0123\n");
    write("token", "token-from-file\n");
    const bot = write(
      "bot.toml",
      '[github]\nwebhookSecretFile = "webhook-secret"\ntokenFile = "token"\nrepos = ["python/cpython"]\n',
    );
    const github = coordinatorFrom({ config: bot }).github;
    assert.equal(github?.webhookSecret, "from-the-secret-file-0123", "the file's content less its newline");
    assert.deepEqual(github?.auth, { kind: "token", token: "token-from-file" });
    const envSecret = write("env-secret", "from-the-environment-file");
    const overridden = coordinatorFrom(
      { config: bot },
      { MEMFARM_GITHUB_WEBHOOK_SECRET_FILE: envSecret, MEMFARM_GITHUB_TOKEN: "token-from-env" },
    ).github;
    assert.equal(overridden?.webhookSecret, "from-the-environment-file");
    assert.deepEqual(overridden?.auth, { kind: "token", token: "token-from-env" });
    assert.throws(
      () => coordinatorFrom({ config: bot }, { MEMFARM_GITHUB_TOKEN_FILE: join(dir, "nothing-here") }),
      /^ValidationError: MEMFARM_GITHUB_TOKEN_FILE: cannot read .*nothing-here \(ENOENT\)$/,
    );
  });
});
