import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * A local git repository that builds like CPython, in seconds and without a
 * compiler: `./configure` records its flags and writes a Makefile, `make`
 * turns `python.in` into a `python` launcher that execs the system python3.
 * Every make appends a line to `makeCountFile`, so a test can tell a cached
 * build from a rebuild. Files outside the repository change how the same
 * commit behaves: `breakConfigure()` makes configure fail (as does a file BROKEN committed in
 * the tree, for one commit of a history).
 */
export class FakeCpython {
  readonly root: string;
  readonly source: string;
  readonly url: string;
  readonly makeCountFile: string;
  readonly slowMakePidFile: string;
  private readonly brokenFile: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), "memfarm-build-test-"));
    this.source = join(this.root, "cpython");
    this.url = pathToFileURL(this.source).href;
    this.makeCountFile = join(this.root, "make-count");
    this.slowMakePidFile = join(this.root, "slow-make.pid");
    this.brokenFile = join(this.root, "configure-broken");
    mkdirSync(this.source);
    this.git("init", "--quiet", "--initial-branch=main");
    this.write("configure", configureScript(this.brokenFile), 0o755);
    this.write("Makefile.in", makefile(this.makeCountFile));
    this.write("Makefile.slow.in", slowMakefile(this.slowMakePidFile));
    this.write("python.in", '#!/bin/sh\nexec /usr/bin/python3 "$@"\n', 0o755);
    this.commit("Initial fake CPython");
  }

  /** A fresh agent work directory under this fixture's temporary directory. */
  workDir(name: string): string {
    const dir = join(this.root, "work", name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  git(...args: string[]): string {
    return this.gitWith({}, ...args);
  }

  private gitWith(env: NodeJS.ProcessEnv, ...args: string[]): string {
    return execFileSync("git", args, {
      cwd: this.source,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "Fake Author",
        GIT_AUTHOR_EMAIL: "author@example.org",
        GIT_COMMITTER_NAME: "Fake Committer",
        GIT_COMMITTER_EMAIL: "committer@example.org",
        ...env,
      },
    }).trim();
  }

  write(path: string, text: string, mode = 0o644): void {
    mkdirSync(dirname(join(this.source, path)), { recursive: true });
    writeFileSync(join(this.source, path), text);
    chmodSync(join(this.source, path), mode);
  }

  /**
   * Commits everything in the tree on the current branch; returns the new SHA. `committedAt`
   * (ISO 8601, any offset) sets the committer date, which is otherwise now.
   */
  commit(message: string, committedAt?: string): string {
    this.git("add", "--all");
    this.gitWith(
      committedAt === undefined ? {} : { GIT_COMMITTER_DATE: committedAt },
      "commit",
      "--quiet",
      "--allow-empty",
      "-m",
      message,
    );
    return this.git("rev-parse", "HEAD");
  }

  /** The committer date of `name` as git prints it (`%cI`: ISO 8601 with the committer's offset). */
  committerDate(name: string): string {
    return this.git("log", "-1", "--format=%cI", `${name}^{commit}`, "--");
  }

  revParse(name: string): string {
    return this.git("rev-parse", `${name}^{commit}`);
  }

  makeCount(): number {
    return existsSync(this.makeCountFile)
      ? readFileSync(this.makeCountFile, "utf8").split("\n").length - 1
      : 0;
  }

  breakConfigure(broken: boolean): void {
    if (broken) writeFileSync(this.brokenFile, "");
    else rmSync(this.brokenFile, { force: true });
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

function configureScript(brokenFile: string): string {
  return `#!/bin/sh
# A stand-in for CPython's configure: records its flags and writes a Makefile.
echo "fake configure: flags $*"
printf '%s\\n' "$@" > configure-flags.txt
if [ -e '${brokenFile}' ] || [ -e BROKEN ]; then
  i=1
  while [ $i -le 30 ]; do
    echo "checking for feature $i... no"
    i=$((i + 1))
  done
  echo "configure: error: no usable C compiler (fake)" >&2
  exit 1
fi
if [ -e SLOW_MAKE ]; then cp Makefile.slow.in Makefile; else cp Makefile.in Makefile; fi
echo "fake configure: wrote Makefile"
`;
}

function makefile(countFile: string): string {
  return `all: python

python: python.in
\techo built >> '${countFile}'
\tcp python.in python
\tchmod +x python
`;
}

/** A make that takes 30 s, for cancel and timeout tests; its pid (sleep's, after exec) goes to a file. */
function slowMakefile(pidFile: string): string {
  return `all:
\techo $$$$ > '${pidFile}'; exec sleep 30
`;
}

/** A suite that builds the fake CPython from a ref and runs the tests in `testDir` with it. */
export function localBuildSuite(testDir: string): Record<string, unknown> {
  return {
    description: "a fake CPython build running the test's own tests",
    args: ["--testdir", testDir, "-v"],
    workers: 1,
    memlimit: "2G",
    timeoutSeconds: 600,
    build: { configureFlags: ["--with-pydebug"] },
  };
}
