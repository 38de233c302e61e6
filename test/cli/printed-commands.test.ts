import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CliProcess, type CliRun, runCli } from "../helpers/cli.ts";
import { makeJobsDir } from "../helpers/farm.ts";
import { findTestPython } from "../helpers/python.ts";
import { until } from "../helpers/until.ts";

/**
 * Issue 16, part 2: what `memfarm up` prints runs as printed, with a data dir that is not the
 * default and no MEMFARM_* variables, because `up` saves a profile; `memfarm login` checks a token
 * before saving it; the embedded NATS port stays the same across restarts of one data dir.
 */
describe("memfarm up's printed commands, profiles and login", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "memfarm-printed-"));
  const dataDir = join(dir, "data dir"); // a space: the printed commands must quote it
  const configHome = join(dir, "config");
  const binDir = join(dir, "bin");
  // The printed job runs "$(command -v python3)": a python3 on PATH that can run regrtest.
  const env: NodeJS.ProcessEnv = {
    XDG_CONFIG_HOME: configHome,
    PATH: `${binDir}${delimiter}${process.env.PATH}`,
  };
  for (const name of ["MEMFARM_URL", "MEMFARM_TOKEN", "MEMFARM_DATA_DIR"]) env[name] = undefined;
  // The shipped bigmem-smoke takes a minute and 2 GiB; this one, under the same name, a second.
  const jobsDir = makeJobsDir({
    "bigmem-smoke": {
      description: "test_bool",
      args: [],
      tests: ["test_bool"],
      workers: 1,
      memlimit: "2G",
      timeoutSeconds: 300,
    },
  });
  const upArgs = ["up", "--port", "0", "--data-dir", dataDir, "--jobs-dir", jobsDir, "--memory", "4G"];
  let up: CliProcess;
  let url: string;

  before(async () => {
    mkdirSync(binDir);
    symlinkSync(findTestPython(), join(binDir, "python3"));
    up = new CliProcess(upArgs, env);
    url = (await up.waitFor(/Dashboard:\s+(http:\/\/\S+?)\/\n/))[1] as string;
    await up.waitFor(/Run a first job:\n {2}(.+)\n/);
  });
  after(async () => {
    // Ctrl-C, not SIGKILL: a killed `up` cannot stop its embedded nats-server, which would outlive the test.
    await up?.stop("SIGINT");
    rmSync(dir, { recursive: true, force: true });
    rmSync(jobsDir, { recursive: true, force: true });
  });

  /** A printed line run by a shell, as a person pasting it would, from `cwd`. */
  const shell = (line: string, cwd = dir): Promise<CliRun> =>
    new Promise((resolve) => {
      execFile(
        "sh",
        ["-c", line],
        { env: { ...process.env, ...env }, cwd, timeout: 240_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
      );
    });

  it("prints a first job that runs as printed, by the CLI's real path, and passes", async () => {
    const line = (up.output.match(/Run a first job:\n {2}(.+)\n/)?.[1] ?? "") as string;
    assert.doesNotMatch(line, /^memfarm /, "memfarm is not on this PATH");
    assert.match(line, /dist\/cli\/main\.js submit bigmem-smoke/);
    const run = await shell(line);
    assert.equal(run.code, 0, `${line}\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout + run.stderr, /passed/);
  });

  it("prints join lines that run as printed: the agent's credentials come from the farm", async () => {
    const creds = up.output.match(/Join another agent[^\n]*\n {2}(.+ agents creds .+)\n/)?.[1];
    assert.ok(creds, up.output);
    const run = await shell(creds);
    assert.equal(run.code, 0, `${creds}\n${run.stderr}`);
    const file = /--output (\S+)/.exec(creds)?.[1] as string;
    assert.match(readFileSync(join(dir, file), "utf8"), /^SU[A-Z2-7]+$/m, "an NKey user seed");
    const agentLine = up.output.match(/Join another agent[^\n]*\n.*\n {2}(.+ agent --nats .+)\n/)?.[1];
    assert.ok(agentLine, up.output);
    const name = /--name (\S+)/.exec(agentLine)?.[1];
    const agent = spawn("sh", ["-c", `exec ${agentLine}`], {
      env: { ...process.env, ...env },
      cwd: dir,
      stdio: "ignore",
    });
    try {
      await until(
        async () => {
          const hosts = JSON.parse((await runCli(["hosts", "--json"], env)).stdout || "{}") as {
            agents?: { name: string }[];
          };
          return hosts.agents?.some((one) => one.name === name) ?? false;
        },
        `agent ${name} joins the farm`,
        30_000,
      );
    } finally {
      agent.kill("SIGINT");
      await new Promise((resolve) => agent.once("exit", resolve));
    }
  });

  it("saves the profile with the URL and the token file's path, not the token, mode 0600", () => {
    const file = join(configHome, "memfarm", "profiles.json");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, "utf8");
    const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
    assert.ok(!text.includes(token), "the token itself is not in the profile");
    const profiles = JSON.parse(text) as {
      current: string;
      profiles: Record<string, { url: string; tokenFile: string }>;
    };
    assert.deepEqual(profiles.profiles[profiles.current], {
      ...profiles.profiles[profiles.current],
      url,
      tokenFile: join(dataDir, "admin-token"),
    });
  });

  it("login refuses a wrong token and saves nothing; a right one is saved and used; logout forgets it", async () => {
    const other = { ...env, XDG_CONFIG_HOME: join(dir, "other-config") };
    const wrong = await runCli(["login", url, "--token", "not-the-token"], other);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /refused the token.*Nothing was saved/);
    assert.throws(() => statSync(join(dir, "other-config", "memfarm", "profiles.json")));
    const listed = await runCli(["tokens", "list"], other);
    assert.notEqual(listed.code, 0, "no profile, no token: listing tokens is refused");

    const right = await runCli(["login", url, "--token-file", join(dataDir, "admin-token")], other);
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, /Logged in to/);
    const withProfile = await runCli(["tokens", "list"], other);
    assert.equal(withProfile.code, 0, withProfile.stderr);

    const out = await runCli(["logout"], other);
    assert.equal(out.code, 0, out.stderr);
    assert.notEqual((await runCli(["tokens", "list"], other)).code, 0, "logged out: refused again");
  });

  it("keeps the NATS port across a restart of the data dir, and picks another (saying so) when it is taken", async () => {
    const natsOf = (output: string) => /NATS:\s+(nats:\/\/\S+)/.exec(output)?.[1];
    const first = natsOf(up.output);
    assert.ok(first);
    assert.equal(await up.stop("SIGINT"), 0);
    up = new CliProcess(upArgs, env);
    await up.waitFor(/Run a first job:/);
    assert.equal(natsOf(up.output), first, "the same NATS URL after a restart");
    assert.equal(await up.stop("SIGINT"), 0);

    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(Number(new URL(first).port), "127.0.0.1", resolve));
    try {
      up = new CliProcess(upArgs, env);
      await up.waitFor(/Run a first job:/);
      assert.notEqual(natsOf(up.output), first);
      assert.match(
        up.output,
        /NATS port kept for this data dir is in use by another process; picking another/,
      );
    } finally {
      squatter.close();
    }
  });
});
