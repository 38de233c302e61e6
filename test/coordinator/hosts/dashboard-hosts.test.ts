import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { HostResource } from "../../../protocol/resources.ts";
import { page, postForm, signIn } from "../../helpers/dashboard-forms.ts";
import { startFarm, type TestFarm } from "../../helpers/farm.ts";
import { type RecordingLogger, recordingLogger } from "../../helpers/recording-logger.ts";
import { type FakeSshHost, factsOutput, startFakeSshHost } from "./fake-ssh-host.ts";
import { waitForHost } from "./host-api.ts";

/** The key's base64 body, the part that must never leak (its header line is public knowledge). */
const keyBody = (identity: string) =>
  identity
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("-----"))
    .join("");

/**
 * The hosts page's SSH forms over HTTP, against ssh2's own Server playing a host (it refuses SFTP,
 * so an add stops at the install step: enough to see the steps, the error and what to fix).
 */
describe("adding and operating SSH hosts from the dashboard", () => {
  let farm: TestFarm;
  let log: RecordingLogger;
  let cookie: string;
  let host: FakeSshHost | undefined;
  before(async () => {
    log = recordingLogger();
    farm = await startFarm({ coordinatorLog: log });
    cookie = await signIn(farm, farm.token);
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });
  after(async () => {
    await farm?.stop();
  });

  // A browser sends a textarea's line breaks as CRLF.
  const addForm = (fake: FakeSshHost, name: string) => ({
    target: `ssh://farm@127.0.0.1:${fake.port}`,
    name,
    labels: "pool=bigmem",
    identity: fake.identity.replace(/\n/g, "\r\n"),
    trust: "accept-new",
    fingerprint: "",
    passphrase: "",
  });

  it("offers the forms to a signed-in user only", async () => {
    const visitor = await page(farm, "/hosts");
    assert.doesNotMatch(visitor.html, /action="\/hosts"/);
    const signedIn = await page(farm, "/hosts", cookie);
    assert.match(signedIn.html, /<form method="post" action="\/hosts"/);
    assert.match(signedIn.html, /<label for="add-identity">Private key<\/label>/);
    assert.match(signedIn.html, /<textarea id="add-identity" name="identity"[^>]*autocomplete="off"/);
    assert.match(signedIn.html, /<input id="add-passphrase" name="passphrase" type="password"/);
  });

  it("adds a host from the form, shows its steps on its page, and keeps the key out of pages and logs", async () => {
    host = await startFakeSshHost(factsOutput());
    const logFrom = log.records.length;
    const response = await postForm(farm, "/hosts", addForm(host, "arm1"), { cookie });
    assert.equal(response.status, 303, await response.text());
    const location = response.headers.get("location") ?? "";
    assert.equal(location, "/hosts/arm1");
    assert.ok(!location.includes(keyBody(host.identity)));

    const running = await page(farm, location, cookie);
    assert.equal(running.status, 200);
    assert.match(running.html, /ssh:\/\/farm@127\.0\.0\.1/);
    assert.match(running.html, /id="host-refresh"/, "a refresh link for a browser without JavaScript");

    const ended = await waitForHost(farm, "arm1");
    assert.equal(ended.status, "failed");
    assert.equal(ended.step, "install", `${ended.step}: ${ended.error ?? ""}`);
    const done = await page(farm, location, cookie);
    assert.match(done.html, /<span id="host-status" class="status status-failed">failed<\/span>/);
    assert.match(done.html, /The <strong>install<\/strong> step failed/);
    assert.match(done.html, /upload failed/);
    assert.match(done.html, /\[connect\]/);
    assert.match(done.html, /\[facts\]/);
    assert.match(done.html, /<dt>Architecture<\/dt><dd>aarch64<\/dd>/);
    assert.match(done.html, /<dt>Labels<\/dt><dd>pool=bigmem<\/dd>/);
    assert.match(
      done.html,
      /<code id="host-key">ssh-ed25519 SHA256:/,
      "the host key the first connect pinned",
    );
    const list = await page(farm, "/hosts", cookie);
    assert.match(list.html, /<a href="\/hosts\/arm1">arm1<\/a>/);
    assert.match(list.html, /action="\/hosts\/arm1\/upgrade"/);

    const secret = keyBody(host.identity);
    for (const html of [running.html, done.html, list.html]) assert.ok(!html.includes(secret));
    assert.ok(log.since(logFrom).length > 0, "the operation logged its steps");
    assert.ok(!JSON.stringify(log.records).includes(secret), "the key is in no log line");
    assert.ok(!JSON.stringify(await farm.api("/hosts/arm1")).includes(secret));
  });

  it("runs an operation on a known host again from its page after a failure", async () => {
    host = await startFakeSshHost(factsOutput({ cores: "8" }));
    const added = await postForm(farm, "/hosts", addForm(host, "arm2"), { cookie });
    assert.equal(added.status, 303);
    assert.equal((await waitForHost(farm, "arm2")).status, "failed");

    const refreshed = await postForm(farm, "/hosts/arm2/facts", { identity: host.identity }, { cookie });
    assert.equal(refreshed.status, 303, await refreshed.text());
    assert.equal(refreshed.headers.get("location"), "/hosts/arm2");
    const ended: HostResource = await waitForHost(farm, "arm2");
    assert.equal(ended.operation, "facts");
    assert.equal(ended.status, "ok", ended.error ?? "");
    assert.match((await page(farm, "/hosts/arm2")).html, /<dt>Cores<\/dt><dd>8<\/dd>/);
  });

  it("refuses the forms without a session or from another origin, and starts nothing", async () => {
    host = await startFakeSshHost(factsOutput());
    const form = addForm(host, "refused");
    assert.equal((await postForm(farm, "/hosts", form)).status, 401);
    assert.equal(
      (await postForm(farm, "/hosts", form, { cookie, origin: "http://evil.example" })).status,
      403,
    );
    assert.equal((await postForm(farm, "/hosts", form, { cookie, origin: null })).status, 403);
    assert.equal((await postForm(farm, "/hosts/arm1/upgrade", { identity: host.identity })).status, 401);
    assert.equal(
      (
        await postForm(
          farm,
          "/hosts/arm1/remove",
          { identity: host.identity },
          { cookie, origin: "http://evil.example" },
        )
      ).status,
      403,
    );
    assert.equal((await farm.api("/hosts/refused")).status, 404);
    assert.equal((await farm.api("/hosts/arm1")).body.operation, "add", "arm1 was not upgraded or removed");
    assert.deepEqual(host.commands, [], "nothing connected to the host");
  });

  it("answers a form it cannot accept with what to change, without echoing the key", async () => {
    host = await startFakeSshHost(factsOutput());
    const badTarget = await postForm(farm, "/hosts", { ...addForm(host, "bad"), target: "arm1" }, { cookie });
    assert.equal(badTarget.status, 400);
    const html = await badTarget.text();
    // The hosts page again, the form open with the target kept and the error beside it.
    assert.match(html, /id="add-target" name="target" value="arm1"[^>]*aria-invalid="true"/);
    assert.match(html, /<p class="field-error span-2" id="add-host-error" role="alert">/);
    assert.ok(!html.includes(keyBody(host.identity)));
    const noKey = await postForm(farm, "/hosts", { ...addForm(host, "bad"), identity: "" }, { cookie });
    assert.equal(noKey.status, 400);
    assert.match(await noKey.text(), /SSH private key/);
    assert.equal((await farm.api("/hosts/bad")).status, 404);
    assert.equal((await page(farm, "/hosts/no-such-host")).status, 404);
    assert.deepEqual(host.commands, []);
  });
});
