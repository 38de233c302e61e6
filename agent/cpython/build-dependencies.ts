import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { BuildError } from "./build-error.ts";

/** A library CPython's build looks for: the header it includes, the Debian package with it, what lacks it. */
export interface OptionalLibrary {
  header: string;
  debianPackage: string;
  /** The modules CPython builds without it, for the message. */
  modules: string;
}

/**
 * CPython's optional modules and what they need, as the devguide's "Install dependencies" lists them
 * for Debian and Ubuntu. configure and make succeed without any of them, only without those modules;
 * the tests that import them are then skipped, which a person reads as "passed". Said in words
 * before the build, so nobody waits an hour for an interpreter without ssl.
 */
export const CPYTHON_OPTIONAL_LIBRARIES: readonly OptionalLibrary[] = [
  { header: "openssl/ssl.h", debianPackage: "libssl-dev", modules: "ssl, hashlib's OpenSSL hashes" },
  {
    header: "zlib.h",
    debianPackage: "zlib1g-dev",
    modules: "zlib (and so gzip, zipfile's deflate, ensurepip)",
  },
  { header: "ffi.h", debianPackage: "libffi-dev", modules: "ctypes" },
  { header: "bzlib.h", debianPackage: "libbz2-dev", modules: "bz2" },
  { header: "lzma.h", debianPackage: "liblzma-dev", modules: "lzma" },
  { header: "sqlite3.h", debianPackage: "libsqlite3-dev", modules: "sqlite3" },
  { header: "readline/readline.h", debianPackage: "libreadline-dev", modules: "readline" },
  { header: "uuid/uuid.h", debianPackage: "uuid-dev", modules: "_uuid" },
  { header: "ncurses.h", debianPackage: "libncurses-dev", modules: "curses" },
  { header: "gdbm.h", debianPackage: "libgdbm-dev", modules: "dbm.gnu" },
];

/** How long one header probe may take (the preprocessor on one include). */
const PROBE_TIMEOUT_MS = 30_000;

/**
 * Checks, before a CPython build, what it needs from the host. No C compiler or no make: a
 * BuildError that says what to install (the build could not start). Missing headers: the
 * returned sentence names the packages and the modules the build will lack, for the job's log;
 * null when nothing is missing. `env` is the build's environment (PATH and CC are read from it).
 */
export async function checkBuildDependencies(
  env: NodeJS.ProcessEnv,
  libraries: readonly OptionalLibrary[] = CPYTHON_OPTIONAL_LIBRARIES,
): Promise<string | null> {
  const compiler = await findCompiler(env);
  const make = await findOnPath("make", env);
  const missingTools = [
    compiler === null ? "a C compiler (cc, gcc or clang)" : null,
    make === null ? "make" : null,
  ]
    .filter((tool) => tool !== null)
    .join(" and ");
  if (missingTools !== "") {
    throw new BuildError(
      "build_failed",
      "build dependencies",
      `${missingTools} not found on the agent's PATH (${env.PATH ?? "unset"}); CPython cannot be built on this host: ` +
        "install build-essential (Debian/Ubuntu: sudo apt-get install build-essential pkg-config) or run --python jobs here",
    );
  }
  const found = await Promise.all(
    libraries.map((library) => hasHeader(compiler as string, library.header, env)),
  );
  const missing = libraries.filter((_, index) => !found[index]);
  if (missing.length === 0) return null;
  return (
    `this host lacks ${missing.map((one) => `${one.debianPackage} (${one.modules})`).join(", ")}: ` +
    "CPython builds without those modules and their tests are skipped; " +
    `to have them, install: sudo apt-get install ${missing.map((one) => one.debianPackage).join(" ")}`
  );
}

/** configure's own choice: $CC when set (its first word), else gcc, cc, clang on the PATH. */
async function findCompiler(env: NodeJS.ProcessEnv): Promise<string | null> {
  const fromEnv = env.CC?.trim().split(/\s+/)[0];
  if (fromEnv)
    return fromEnv.includes("/")
      ? (await isExecutable(fromEnv))
        ? fromEnv
        : null
      : findOnPath(fromEnv, env);
  for (const name of ["gcc", "cc", "clang"]) {
    const path = await findOnPath(name, env);
    if (path !== null) return path;
  }
  return null;
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const path = join(dir, name);
    if (await isExecutable(path)) return path;
  }
  return null;
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Whether the compiler's preprocessor finds `header` where the build would look (no shell; argv only). */
function hasHeader(compiler: string, header: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      compiler,
      ["-E", "-include", header, "-x", "c", "/dev/null", "-o", "/dev/null"],
      { env, timeout: PROBE_TIMEOUT_MS },
      (error) => resolve(error === null),
    );
  });
}
