import { readDrainTimeoutMs } from "../../protocol/drain-timeout.ts";
import type { InstalledAgentOptions } from "../../protocol/installed-agent-config.ts";
import type { AgentLayout } from "./agent-layout.ts";

/**
 * What systemd adds to the drain before it kills the agent: its kill grace (SIGTERM to SIGKILL of a
 * job, 10 s) and room to hand the jobs back and flush the outbox.
 */
const STOP_MARGIN_SECONDS = 60;

/** TimeoutStopSec: systemd must not kill an agent that is still draining as it was told to. */
export function stopTimeoutSeconds(options: InstalledAgentOptions): number {
  return Math.ceil(readDrainTimeoutMs(options.drainTimeout) / 1000) + STOP_MARGIN_SECONDS;
}

/**
 * Hardening for an agent that runs as its own user (a system unit). Each line was checked on the
 * arm-host VM (systemd 252, cgroup v2) by `npm run test:arm-host` with job cgroups, limits and OOM
 * still working. Left out on purpose:
 * - ProtectControlGroups= and ProtectKernelTunables=: both make /sys/fs/cgroup read-only, and the
 *   agent writes its delegated subtree (job cgroups, memory.max, cgroup.kill).
 * - MemoryDenyWriteExecute=: Node's JIT needs writable, executable memory.
 * - PrivateDevices=, RestrictNamespaces=, SystemCallFilter=: CPython's own tests use devices,
 *   namespaces and system calls a test farm must not forbid.
 */
export const AGENT_HARDENING = [
  "NoNewPrivileges=yes",
  "CapabilityBoundingSet=",
  "AmbientCapabilities=",
  "ProtectSystem=strict",
  "ProtectHome=read-only",
  "PrivateTmp=yes",
  "ProtectKernelModules=yes",
  "ProtectKernelLogs=yes",
  "ProtectClock=yes",
  "ProtectHostname=yes",
  "RestrictSUIDSGID=yes",
  "RestrictRealtime=yes",
  "LockPersonality=yes",
  "SystemCallArchitectures=native",
  "UMask=0027",
];

/** A unit that restarts the agent if it dies; stopping gives running jobs the agent's drain time. */
export function agentUnitText(
  layout: AgentLayout,
  nodePath: string,
  agentName: string,
  system: boolean,
  options: InstalledAgentOptions,
): string {
  const account =
    layout.serviceUser === null
      ? []
      : [
          `User=${layout.serviceUser}`,
          `Group=${layout.serviceUser}`,
          // Everything else is read-only to the agent (ProtectSystem=strict).
          `ReadWritePaths=${layout.root}`,
          ...AGENT_HARDENING,
        ];
  return [
    "[Unit]",
    `Description=memfarm agent ${agentName}`,
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    `ExecStart="${nodePath}" "${layout.bundle}" --config "${layout.config}"`,
    `WorkingDirectory=${layout.root}`,
    ...account,
    "Restart=on-failure",
    "RestartSec=5",
    `TimeoutStopSec=${stopTimeoutSeconds(options)}`,
    // The unit's cgroup is the agent's: it puts itself in a leaf and each job in a cgroup beside it,
    // with memory.max, memory.oom.group and cgroup.kill (agent/limits/delegated-cgroup.ts).
    "Delegate=yes",
    "Environment=MEMFARM_CGROUP_DELEGATED=1",
    // Stopping the unit kills the jobs too (they are in its cgroup), after the agent's drain.
    "KillMode=mixed",
    `StandardOutput=append:${layout.log}`,
    `StandardError=append:${layout.log}`,
    "",
    "[Install]",
    `WantedBy=${system ? "multi-user.target" : "default.target"}`,
    "",
  ].join("\n");
}
