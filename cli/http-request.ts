import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";

/** A whole HTTP answer: its status and its body as text. */
export interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * One HTTP request with node:http, for the CLI's plain calls. Not fetch: Node's fetch boots its
 * bundled undici on first use, which costs more than the rest of `memfarm jobs` together
 * (bench/cli-startup.ts). HTTPS loads node:https only when a URL needs it. Streams (follow) still
 * use fetch, where start-up does not matter.
 */
export async function requestText(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
): Promise<HttpAnswer> {
  const parsed = new URL(url);
  const request = parsed.protocol === "https:" ? (await import("node:https")).request : httpRequest;
  const headers = {
    ...init.headers,
    ...(init.body === undefined ? {} : { "content-length": String(Buffer.byteLength(init.body)) }),
  };
  const options: RequestOptions = { method: init.method, headers };
  return new Promise((resolve, reject) => {
    const sent = request(parsed, options, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    sent.on("error", reject);
    sent.end(init.body);
  });
}
