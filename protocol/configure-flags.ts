import { ValidationError } from "./errors.ts";

const MAX_FLAGS = 100;
const MAX_FLAG_LENGTH = 1000;
/** `--with-pydebug`, `--with-lto=full`, `--without-doc-strings`. */
const OPTION = /^--[a-z0-9][a-z0-9-]*(=.*)?$/;
/** `CC=clang`, `CFLAGS=-O0 -g`: configure takes variables as arguments too. */
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*=.*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this rejects.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Arguments for CPython's `./configure`: options and VAR=value assignments
 * only. They reach configure as an argument array (no shell), but configure is
 * itself a shell script, so nothing else gets through: no positional words, no
 * single-dash options, no control characters.
 */
export function checkConfigureFlags(flags: readonly string[], field = "configureFlags"): string[] {
  if (flags.length > MAX_FLAGS) {
    throw new ValidationError("invalid_configure_flags", `${field}: more than ${MAX_FLAGS} flags`, field);
  }
  for (const flag of flags) {
    const problem =
      flag.length > MAX_FLAG_LENGTH
        ? `is longer than ${MAX_FLAG_LENGTH} characters`
        : CONTROL_CHARS.test(flag)
          ? "contains control characters"
          : OPTION.test(flag) || VARIABLE.test(flag)
            ? null
            : "is neither a --option nor a VAR=value assignment";
    if (problem !== null) {
      throw new ValidationError(
        "invalid_configure_flags",
        `${field}: ${JSON.stringify(flag)} ${problem}; use flags like --with-pydebug or CC=clang`,
        field,
      );
    }
  }
  return [...flags];
}
