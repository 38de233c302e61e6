import type { Logger } from "../../protocol/logger.ts";
import type { HostsStore } from "../store/hosts-store.ts";
import type { HostStep } from "./step-error.ts";

/** Where a host operation says what it does: the host's log (SQLite, streamed to the CLI) and the coordinator log. */
export class HostProgress {
  private current: HostStep = "validate";

  constructor(
    private readonly hosts: HostsStore,
    private readonly host: string,
    private readonly log: Logger,
  ) {}

  get step(): HostStep {
    return this.current;
  }

  enter(step: HostStep, message: string): void {
    this.current = step;
    this.hosts.enterStep(this.host, step);
    this.info(message);
  }

  info(message: string): void {
    this.hosts.log(this.host, this.current, "info", message);
    this.log.info(message, { host: this.host, step: this.current });
  }

  warn(message: string): void {
    this.hosts.log(this.host, this.current, "warn", message);
    this.log.warn(message, { host: this.host, step: this.current });
  }

  error(step: HostStep, message: string): void {
    this.hosts.log(this.host, step, "error", message);
    this.log.warn("host operation failed", { host: this.host, step, error: message });
  }
}
