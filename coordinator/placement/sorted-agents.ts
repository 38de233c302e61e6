import type { AgentTimeline } from "./timeline.ts";

interface Entry {
  key: number;
  agent: AgentTimeline;
}

function before(a: Entry, key: number, name: string): boolean {
  return a.key < key || (a.key === key && a.agent.name < name);
}

/**
 * Agents sorted by a number (free memory, capacity), then by name so that ties always break the
 * same way. Lookups are binary searches; an insert or removal moves at most the array's length
 * (a thousand agents: microseconds), which is cheaper here than a balanced tree.
 */
export class SortedAgents {
  private readonly entries: Entry[] = [];

  get length(): number {
    return this.entries.length;
  }

  at(index: number): Entry | undefined {
    return this.entries[index];
  }

  /** The first index whose key is at least `key`. */
  firstAtLeast(key: number): number {
    return this.search(key, "");
  }

  insert(agent: AgentTimeline, key: number): void {
    this.entries.splice(this.search(key, agent.name), 0, { key, agent });
  }

  /** Removes the agent, which must have been inserted with `key`. */
  remove(agent: AgentTimeline, key: number): void {
    const index = this.search(key, agent.name);
    if (this.entries[index]?.agent === agent) this.entries.splice(index, 1);
  }

  private search(key: number, name: string): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      const entry = this.entries[middle];
      if (entry && before(entry, key, name)) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
