import type { HostResource } from "../../../protocol/resources.ts";
import type { TestFarm } from "../../helpers/farm.ts";

/** Waits until the host's operation has ended, as the CLI does, and returns the host with its whole log. */
export async function waitForHost(farm: TestFarm, name: string, timeoutMs = 120_000): Promise<HostResource> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const host = (await farm.api(`/hosts/${name}`)).body as HostResource;
    if (host.status !== "working") return host;
    if (Date.now() > deadline)
      throw new Error(`host ${name} still at step ${host.step} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const logText = (host: HostResource) =>
  host.log.map((line) => `[${line.step}] ${line.level} ${line.message}`).join("\n");
