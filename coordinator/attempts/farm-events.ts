import type { Logger } from "../../protocol/logger.ts";
import type { Sample } from "../../protocol/messages.ts";
import type { JobResource, LogLineResource } from "../../protocol/resources.ts";

/** What happens in the farm, for live views (server-sent events, later the PR bot). */
export interface FarmEventMap {
  /** A job changed state (or was created). */
  job: JobResource;
  log: { jobId: number; lines: LogLineResource[] };
  samples: { jobId: number; samples: Sample[] };
}

type Listener<T> = (payload: T) => void;

/**
 * A typed event bus whose listeners cannot hurt the emitter: a listener that
 * throws is logged and the others still run, so a broken dashboard stream
 * cannot stop the scheduler.
 */
export class FarmEvents {
  private readonly listeners: { [K in keyof FarmEventMap]: Set<Listener<FarmEventMap[K]>> } = {
    job: new Set(),
    log: new Set(),
    samples: new Set(),
  };

  constructor(private readonly log: Logger) {}

  on<K extends keyof FarmEventMap>(event: K, listener: Listener<FarmEventMap[K]>): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  emit<K extends keyof FarmEventMap>(event: K, payload: FarmEventMap[K]): void {
    for (const listener of this.listeners[event]) {
      try {
        listener(payload);
      } catch (thrown) {
        this.log.warn("an event listener failed", { event, error: String(thrown) });
      }
    }
  }
}
