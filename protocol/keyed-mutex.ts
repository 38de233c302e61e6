/**
 * One holder at a time per key, within this process: two jobs that need the
 * same mirror or the same build wait for each other instead of running git or
 * make on the same directory at once (the agent; one agent owns its work
 * directory, so other processes need no lock), and the coordinator's steps of
 * one bisection, or git commands in one mirror, run one after another.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Runs `work` once every earlier holder of `key` is done. An abort while
   * waiting rejects at once with the signal's reason; the queue moves on.
   */
  async run<T>(key: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    try {
      await waitOrAbort(previous, signal);
      return await work();
    } finally {
      // If this caller gave up while waiting, its turn still comes and passes at once.
      void previous.then(release);
      if (this.tails.get(key) === tail) void tail.then(() => this.forget(key, tail));
    }
  }

  private forget(key: string, tail: Promise<void>): void {
    if (this.tails.get(key) === tail) this.tails.delete(key);
  }
}

function waitOrAbort(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
