import { isIP } from "node:net";
import { ValidationError } from "../../protocol/errors.ts";
import { agentNameFromHost } from "../../protocol/names.ts";

/** Where a host is reached over SSH; every part validated before anything connects. */
export interface SshTarget {
  user: string;
  /** A hostname or an IP literal (IPv6 without brackets). */
  address: string;
  port: number;
}

const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
/** RFC 1123 labels: letters, digits, inner hyphens; no leading hyphen, so never an option. */
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TARGET = /^ssh:\/\/([^@/]*)@(\[[^\]/]*\]|[^:/]*)(?::([^/]*))?\/?$/;

export function checkSshUser(user: string, field = "target"): string {
  if (!USER.test(user)) {
    throw new ValidationError(
      "invalid_ssh_user",
      `"${user}" is not a user name memfarm accepts (lowercase letters, digits, _ and -, starting with a letter or _, at most 32)`,
      field,
    );
  }
  return user;
}

export function checkSshAddress(address: string, field = "target"): string {
  const isHostname = address.length <= 253 && address.split(".").every((label) => HOST_LABEL.test(label));
  if (isIP(address) === 0 && !isHostname) {
    throw new ValidationError(
      "invalid_ssh_host",
      `"${address}" is neither a hostname nor an IP address`,
      field,
    );
  }
  return address;
}

export function checkSshPort(port: number, field = "target"): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ValidationError("invalid_ssh_port", `port ${port} is not a TCP port (1-65535)`, field);
  }
  return port;
}

/** Parses `ssh://USER@HOST[:PORT]` (`[::1]` for IPv6), default port 22. */
export function parseSshTarget(text: string, field = "target"): SshTarget {
  const match = TARGET.exec(text);
  if (!match) {
    throw new ValidationError(
      "invalid_ssh_target",
      `"${text}" is not an SSH address; write ssh://USER@HOST or ssh://USER@HOST:PORT`,
      field,
    );
  }
  const [, user = "", host = "", portText] = match;
  const address = host.startsWith("[") ? host.slice(1, -1) : host;
  if (host.startsWith("[") && isIP(address) !== 6) {
    throw new ValidationError("invalid_ssh_host", `"${host}": brackets hold an IPv6 address only`, field);
  }
  if (portText !== undefined && !/^\d{1,5}$/.test(portText)) {
    throw new ValidationError("invalid_ssh_port", `"${portText}" is not a port number`, field);
  }
  return {
    user: checkSshUser(user, field),
    address: checkSshAddress(address, field),
    port: checkSshPort(portText === undefined ? 22 : Number(portText), field),
  };
}

export function formatSshTarget(target: SshTarget): string {
  const host = isIP(target.address) === 6 ? `[${target.address}]` : target.address;
  return `ssh://${target.user}@${host}${target.port === 22 ? "" : `:${target.port}`}`;
}

/** The agent name a host gets unless --name says otherwise; a port other than 22 is added (two containers on one machine). */
export function defaultHostName(target: SshTarget): string {
  const name = agentNameFromHost(target.address);
  return target.port === 22 ? name : `${name}-${target.port}`.slice(0, 63);
}
