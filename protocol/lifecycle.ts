import type { Logger } from "./logger.ts";

/**
 * The state of a long-lived component (coordinator, agent, scheduler), changed in one place that
 * logs every change, so a log shows each step of a start or a shutdown and nothing sets the state
 * behind the log's back.
 */
export class Lifecycle<State extends string> {
  constructor(
    private current: State,
    private readonly component: string,
    private readonly log: Logger,
  ) {}

  get state(): State {
    return this.current;
  }

  is(...states: State[]): boolean {
    return states.includes(this.current);
  }

  /** Moves to `next` and logs `what` (why, or what happens now) with the change. */
  set(next: State, what?: string, fields: Record<string, unknown> = {}): void {
    if (next === this.current) return;
    const from = this.current;
    this.current = next;
    this.log.info(what ?? `${this.component} ${next}`, {
      component: this.component,
      from,
      to: next,
      ...fields,
    });
  }
}
