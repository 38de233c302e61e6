/**
 * What a component started, in the order it started it, released in the reverse order: the same
 * list serves a start that fails half-way and a shutdown, so the two cannot drift apart
 * (graphile-worker's releasers). A releaser that fails is reported and the others still run.
 */
export class Releasers {
  private readonly steps: { name: string; release: () => unknown }[] = [];

  /** Adds a step that undoes what was just started. */
  add(name: string, release: () => unknown): void {
    this.steps.push({ name, release });
  }

  /** Runs every step, last added first, once; resolves to the names of the steps that failed. */
  async releaseAll(onError: (name: string, thrown: unknown) => void = () => {}): Promise<string[]> {
    const failed: string[] = [];
    for (const { name, release } of this.steps.splice(0).reverse()) {
      try {
        await release();
      } catch (thrown) {
        failed.push(name);
        onError(name, thrown);
      }
    }
    return failed;
  }
}
