import type { AgentLayout } from "./agent-layout.ts";
import { FACTS_SCRIPT } from "./remote-facts.ts";
import { remoteScript } from "./shell-quote.ts";

/**
 * Every command memfarm runs on a host: a fixed script, with paths and names as quoted
 * arguments ($1, $2, ...). Nothing a user typed is part of a script.
 */

export type StartMode = "systemd-system" | "systemd-user" | "detached";

export const factsCommand = () => remoteScript(FACTS_SCRIPT);

/** Detached: its own session (setsid -f returns at once), its own log, stdin closed. */
export const startDetachedCommand = (layout: AgentLayout, nodePath: string) =>
  remoteScript('cd "$1" && setsid -f "$2" "$3" --config "$4" >>"$5" 2>&1 </dev/null', [
    layout.root,
    nodePath,
    layout.bundle,
    layout.config,
    layout.log,
  ]);

/**
 * Stops the detached agent of this config: the pid from its pid file, if that process still runs
 * with this config on its command line (a reused pid is left alone); SIGTERM, then SIGKILL after 30 s.
 */
export const stopDetachedCommand = (layout: AgentLayout) =>
  remoteScript(
    `[ -f "$1" ] || exit 0
pid=$(cat "$1")
case "$pid" in ''|*[!0-9]*) rm -f "$1"; exit 0;; esac
if ! tr '\\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config $2"; then rm -f "$1"; exit 0; fi
kill -TERM "$pid" 2>/dev/null
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
kill -KILL "$pid" 2>/dev/null
rm -f "$1"
exit 0`,
    [layout.pidFile, layout.config],
  );

const scopeFlag = (mode: StartMode) => (mode === "systemd-user" ? "--user" : "--system");

export const startSystemdCommand = (mode: StartMode) =>
  remoteScript(
    'systemctl "$1" daemon-reload && systemctl "$1" enable memfarm-agent.service && systemctl "$1" restart memfarm-agent.service',
    [scopeFlag(mode)],
  );

/**
 * A user unit keeps running after the SSH session ends only with lingering on. Debian's polkit
 * refuses it to the user alone; passwordless sudo (never a prompt: -n) may do it. Allowed to fail.
 */
export const enableLingerCommand = () =>
  remoteScript(
    'u="$(id -un)"; loginctl enable-linger "$u" 2>/dev/null || sudo -n loginctl enable-linger "$u" 2>/dev/null; [ "$(loginctl show-user "$u" -p Linger --value 2>/dev/null)" = yes ]',
  );

export const stopSystemdCommand = (mode: StartMode) =>
  remoteScript('systemctl "$1" disable --now memfarm-agent.service >/dev/null 2>&1; exit 0', [
    scopeFlag(mode),
  ]);

/** Removes the versions other than `keep` (after an upgrade). */
export const pruneVersionsCommand = (layout: AgentLayout, keep: string) =>
  remoteScript('cd "$1" || exit 0; for d in *; do [ "$d" = "$2" ] || rm -rf -- "$d"; done', [
    layout.versions,
    keep,
  ]);

/**
 * The dedicated user of a system unit, with its home, made once (a system account: no password, no
 * login shell). Runs as root, which a system unit's install has.
 */
export const ensureServiceUserCommand = (user: string, home: string) =>
  remoteScript(
    'id -u "$1" >/dev/null 2>&1 || useradd --system --user-group --home-dir "$2" --create-home --shell /usr/sbin/nologin "$1" && install -d -o "$1" -g "$1" -m 0750 "$2"',
    [user, home],
  );

/** Hands the files root uploaded to the user the agent runs as. */
export const chownToServiceUserCommand = (user: string, root: string) =>
  remoteScript('chown -R -- "$1:$1" "$2"', [user, root]);

/**
 * Removes the dedicated user, only if it is the one `hosts add` made (its home is ours), and the
 * empty ~/.memfarm the facts script made in root's home.
 */
export const removeServiceUserCommand = (user: string, home: string) =>
  remoteScript(
    'if [ "$(getent passwd "$1" | cut -d: -f6)" = "$2" ]; then userdel "$1" || exit 1; fi; rmdir "$HOME/.memfarm" 2>/dev/null; exit 0',
    [user, home],
  );

/** Removes ~/.memfarm and the unit file, if any. */
export const uninstallCommand = (layout: AgentLayout, unitFile: string | null) =>
  remoteScript('rm -rf -- "$1"; [ -z "$2" ] || rm -f -- "$2"', [layout.root, unitFile ?? ""]);

export const tailLogCommand = (layout: AgentLayout) =>
  remoteScript('tail -n 20 -- "$1" 2>/dev/null', [layout.log]);
