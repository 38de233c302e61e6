/**
 * Quotes one argument for a remote POSIX shell (sh, dash, bash, zsh): the whole
 * text in single quotes, each `'` written as `'\''`. Inside single quotes nothing
 * is special — not `$`, `` ` ``, `\`, `;`, newlines — so the shell passes the
 * bytes through as one word. The only way memfarm puts text into a remote command line.
 */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) {
    // No shell can carry a NUL in an argument; refusing beats silently truncating.
    throw new Error("an argument for a remote command cannot contain a NUL byte");
  }
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * A remote command that runs the fixed `script` with `args` as `$1`, `$2`, ...:
 * `sh -c 'SCRIPT' memfarm 'ARG1' 'ARG2'`. Scripts are constants of this folder;
 * only the arguments vary, and they are quoted.
 */
export function remoteScript(script: string, args: readonly string[] = []): string {
  return ["sh", "-c", shellQuote(script), "memfarm", ...args.map(shellQuote)].join(" ");
}
