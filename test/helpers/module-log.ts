import { register } from "node:module";

/**
 * `node --import .../module-log.js SCRIPT`: records the modules SCRIPT loads (module-log-hooks.ts).
 * Imports of packages from ES modules pass through the hooks; the CommonJS require()s inside a
 * package do not, but the package's own entry does, which is what a test looks for.
 */
register("./module-log-hooks.js", import.meta.url);
