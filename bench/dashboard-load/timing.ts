/** Timing of sequential requests: client time to the whole body, and the server's own Server-Timing. */
export interface Timings {
  clientMs: number[];
  serverMs: number[];
  bytes: number;
  status: number;
}

export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  // Nearest rank: with 200 requests p99 is the second worst, not an interpolation.
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

async function once(
  url: string,
): Promise<{ clientMs: number; serverMs: number; bytes: number; status: number }> {
  const started = performance.now();
  const response = await fetch(url);
  const body = await response.arrayBuffer();
  const clientMs = performance.now() - started;
  const header = response.headers.get("server-timing") ?? "";
  const serverMs = Number(/dur=([\d.]+)/.exec(header)?.[1] ?? Number.NaN);
  return { clientMs, serverMs, bytes: body.byteLength, status: response.status };
}

/** `warmup` requests first (JIT, SQLite page cache), then `count` timed ones, one after another. */
export async function timeRequests(url: string, count: number, warmup: number): Promise<Timings> {
  for (let index = 0; index < warmup; index += 1) await once(url);
  const timings: Timings = { clientMs: [], serverMs: [], bytes: 0, status: 0 };
  for (let index = 0; index < count; index += 1) {
    const result = await once(url);
    timings.clientMs.push(result.clientMs);
    timings.serverMs.push(result.serverMs);
    timings.bytes = result.bytes;
    timings.status = result.status;
  }
  return timings;
}
