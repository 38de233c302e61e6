import type { AgentSelfFigures } from "../../protocol/messages.ts";

/**
 * Each agent's own cost as its last heartbeat told it (CPU, the sampler's share, resident memory),
 * so /metrics shows the agents' figures without a port to open on every host. In memory only: the
 * next heartbeat after a restart brings them back.
 */
export class AgentFigures {
  private readonly byAgent = new Map<string, AgentSelfFigures>();

  record(agent: string, figures: AgentSelfFigures | undefined): void {
    if (figures) this.byAgent.set(agent, figures);
  }

  of(agent: string): AgentSelfFigures | null {
    return this.byAgent.get(agent) ?? null;
  }
}
