import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { agentFrom, configDir, coordinatorFrom } from "./settings-helpers.ts";

/** Each way a config file can be wrong, and the error a person reads: the file, the key, what to write. */
describe("a config file's errors", () => {
  const { dir, write } = configDir();
  const refused = (run: () => unknown, message: RegExp) =>
    assert.throws(run, (thrown: Error) => {
      assert.match(thrown.message, message);
      return true;
    });

  it("names the key and the file for a value its parser refuses, as the flag's would be", () => {
    const json = write("memfarm.json", JSON.stringify({ coordinator: { port: "abc" } }));
    refused(
      () => coordinatorFrom({ config: json }),
      /^.*memfarm\.json: coordinator\.port must be a port number from 0 to 65535, not "abc"$/,
    );
    refused(
      () => coordinatorFrom({ port: "abc" }),
      /^--port must be a port number from 0 to 65535, not "abc"$/,
    );
    const toml = write("bad-values.toml", '[coordinator]\nlostAfter = "soon"\n');
    refused(
      () => coordinatorFrom({ config: toml }),
      /bad-values\.toml: coordinator\.lostAfter: "soon" is not a duration/,
    );
    const bounds = write("bounds.toml", "[coordinator]\nlostAfter = 1\n");
    refused(
      () => coordinatorFrom({ config: bounds }),
      /bounds\.toml: coordinator\.lostAfter: "1" is 1s; it must be from 4s/,
    );
    const memory = write("memory.toml", '[agent]\nnats = "nats://127.0.0.1:4222"\nmemory = "lots"\n');
    refused(() => agentFrom({ config: memory }), /memory\.toml: agent\.memory: "lots" is not a size/);
    const repos = write(
      "repos.toml",
      '[github]\nwebhookSecret = "0123456789abcdef"\ntoken = "t"\nrepos = ["cpython"]\n',
    );
    refused(
      () => coordinatorFrom({ config: repos }),
      /repos\.toml: github\.repos: "cpython" is not owner\/name/,
    );
  });

  it("refuses an unknown key, suggesting the nearest known one", () => {
    const typo = write("typo.toml", "[coordinator]\nprot = 8080\n");
    refused(
      () => coordinatorFrom({ config: typo }),
      /typo\.toml: coordinator\.prot is not a known key; did you mean coordinator\.port\?/,
    );
    const misplaced = write("misplaced.json", JSON.stringify({ agent: { lostAfter: "15s" } }));
    refused(
      () => agentFrom({ config: misplaced }),
      /agent\.lostAfter is not a known key; did you mean coordinator\.lostAfter\?/,
    );
    const top = write("top.json", JSON.stringify({ port: 8080 }));
    refused(
      () => coordinatorFrom({ config: top }),
      /top\.json: port is not a known key; did you mean coordinator\.port\?/,
    );
    const nothingClose = write("far.toml", "[coordinator]\nbananas = 1\n");
    refused(
      () => coordinatorFrom({ config: nothingClose }),
      /coordinator\.bananas is not a known key; the keys of coordinator are port, host, dataDir/,
    );
    const section = write("section.toml", "[scheduler]\ntick = 1\n");
    refused(
      () => coordinatorFrom({ config: section }),
      /scheduler\.tick is not a known key; the sections are coordinator, agent, github, log/,
    );
  });

  it("checks the whole file whichever daemon reads it", () => {
    const agentTypo = write("agent-typo.toml", '[agent]\nmemroy = "16G"\n');
    refused(
      () => coordinatorFrom({ config: agentTypo }),
      /agent\.memroy is not a known key; did you mean agent\.memory\?/,
    );
  });

  it("names the type it wanted and the one it got", () => {
    const list = write("list.json", JSON.stringify({ coordinator: { port: [8080] } }));
    refused(
      () => coordinatorFrom({ config: list }),
      /list\.json: coordinator\.port must be a number, not a list/,
    );
    const flag = write("flag.toml", '[agent]\nallowLocalRepos = "yes"\n');
    refused(
      () => agentFrom({ config: flag }),
      /flag\.toml: agent\.allowLocalRepos must be true or false, not a string/,
    );
    const labels = write("labels.toml", "[agent]\nlabels = { pool = 3 }\n");
    refused(() => agentFrom({ config: labels }), /agent\.labels must be a table of strings .* not a table/);
    const date = write("date.toml", "[coordinator]\nhost = 2026-12-03\n");
    refused(
      () => coordinatorFrom({ config: date }),
      /date\.toml: coordinator\.host must be a string, not a date/,
    );
    const section = write("section.json", JSON.stringify({ coordinator: 8080 }));
    refused(() => coordinatorFrom({ config: section }), /section\.json: coordinator is not a known key/);
  });

  it("says which formats it knows, and where a file does not parse", () => {
    const yaml = write("memfarm.yaml", "coordinator:\n  port: 8080\n");
    refused(
      () => coordinatorFrom({ config: yaml }),
      /memfarm\.yaml: the format is told by the name's extension; known formats: \.json \(JSON\), \.toml \(TOML\)/,
    );
    const json = write("broken.json", '{"coordinator": {"port": 8080,}}');
    refused(() => coordinatorFrom({ config: json }), /broken\.json is not valid JSON: /);
    const toml = write("broken.toml", "[coordinator]\nport = = 8080\n");
    refused(
      () => coordinatorFrom({ config: toml }),
      /broken\.toml is not valid TOML: Invalid TOML document: invalid value\n[\s\S]*2: {2}port = = 8080/,
    );
    const array = write("array.json", "[1, 2]");
    refused(() => coordinatorFrom({ config: array }), /array\.json must hold a JSON object of sections/);
    refused(
      () => coordinatorFrom({ config: join(dir, "missing.toml") }),
      /--config .*missing\.toml: cannot read it \(ENOENT/,
    );
  });

  it("names the key and path of a secret file it cannot read, and never shows a secret", () => {
    const missing = write(
      "missing-secret.toml",
      '[github]\nwebhookSecretFile = "no-such-secret"\ntoken = "t0ken-that-must-not-show"\nrepos = "python/cpython"\n',
    );
    refused(
      () => coordinatorFrom({ config: missing }),
      new RegExp(
        `missing-secret\\.toml: github\\.webhookSecretFile: cannot read ${join(dir, "no-such-secret")} \\(ENOENT\\)$`,
      ),
    );
    const both = write(
      "both.toml",
      '[github]\nwebhookSecret = "s3cret-in-the-file-itself"\nwebhookSecretFile = "secret-beside-it"\n',
    );
    refused(
      () => coordinatorFrom({ config: both }),
      /both\.toml: github\.webhookSecret and .*github\.webhookSecretFile both give the same secret; keep one$/,
    );
    write("short-secret", "tiny-s3cret\n");
    const tooShort = write(
      "short.toml",
      '[github]\nwebhookSecretFile = "short-secret"\ntoken = "t"\nrepos = "a/b"\n',
    );
    assert.throws(
      () => coordinatorFrom({ config: tooShort }),
      (thrown: Error) => {
        assert.match(thrown.message, /short\.toml: github\.webhookSecretFile must be at least 16 characters/);
        assert.ok(!thrown.message.includes("tiny-s3cret"), thrown.message);
        return true;
      },
    );
    write("empty-secret", "\n");
    const empty = write("empty.toml", '[github]\ntokenFile = "empty-secret"\n');
    refused(
      () => coordinatorFrom({ config: empty }),
      /empty\.toml: github\.tokenFile: .*empty-secret is empty$/,
    );
  });
});
