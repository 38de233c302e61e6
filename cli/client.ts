import { MemfarmError } from "../protocol/errors.ts";
import type { ApiErrorBody } from "../protocol/resources.ts";
import { ExitCode } from "./exit-codes.ts";
import { type HttpAnswer, requestText } from "./http-request.ts";

/** An error the CLI prints as it is and exits with `exitCode`. */
export class CliError extends MemfarmError {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The coordinator's HTTP status, when it answered with an error. */
    readonly httpStatus?: number,
  ) {
    super("cli", message);
  }
}

export interface ClientOptions {
  url: string;
  token: string | undefined;
  /** Where the URL and the token came from, for the errors that need it (see cli/context.ts). */
  urlFrom?: string;
  tokenFrom?: string;
}

/** The coordinator's HTTP API, as the CLI uses it. */
export class ApiClient {
  constructor(private readonly options: ClientOptions) {}

  get baseUrl(): string {
    return this.options.url.replace(/\/+$/, "");
  }

  /** `authenticated`: send the token on a read too (listing tokens needs it). */
  async get<T>(path: string, options: { authenticated?: boolean } = {}): Promise<T> {
    return this.call<T>("GET", path, undefined, options.authenticated ?? false);
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>("POST", path, body);
  }

  async delete<T>(path: string): Promise<T> {
    return this.call<T>("DELETE", path);
  }

  /** Opens a streaming GET (server-sent events). */
  async stream(path: string, signal?: AbortSignal): Promise<Response> {
    const response = await this.fetch(path, { headers: { accept: "text/event-stream" }, signal });
    if (!response.ok) this.fail(response.status, await response.text().catch(() => ""));
    return response;
  }

  private async call<T>(method: string, path: string, body?: unknown, authenticated = true): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if ((method !== "GET" || authenticated) && this.options.token)
      headers.authorization = `Bearer ${this.options.token}`;
    let answer: HttpAnswer;
    try {
      answer = await requestText(`${this.baseUrl}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (thrown) {
      throw this.unreachable(thrown);
    }
    if (answer.status < 200 || answer.status > 299) this.fail(answer.status, answer.text);
    try {
      return JSON.parse(answer.text) as T;
    } catch {
      throw new CliError(
        `${this.baseUrl} answered HTTP ${answer.status} with something other than JSON: is it a memfarm coordinator?`,
        ExitCode.unreachable,
        answer.status,
      );
    }
  }

  private unreachable(thrown: unknown): CliError {
    const from = this.options.urlFrom ? `; URL from ${this.options.urlFrom}` : "";
    return new CliError(
      `cannot reach the coordinator at ${this.baseUrl} (${describeFetchError(thrown)}${from}). Start a farm with "memfarm up", or point --url / MEMFARM_URL at a running coordinator.`,
      ExitCode.unreachable,
    );
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}/api/v1${path}`, init);
    } catch (thrown) {
      if ((thrown as Error).name === "AbortError") throw thrown;
      throw this.unreachable(thrown);
    }
  }

  private fail(status: number, text: string): never {
    let body: ApiErrorBody | null = null;
    try {
      body = JSON.parse(text) as ApiErrorBody;
    } catch {
      // Not our JSON: a proxy or another server answered.
    }
    const message = body?.error?.message ?? `the coordinator answered HTTP ${status}`;
    const field = body?.error?.field ? ` [${body.error.field}]` : "";
    // A refused or missing token: say which one the CLI sent, so the person knows what to fix.
    const token = status === 401 && this.options.tokenFrom ? ` (token: ${this.options.tokenFrom})` : "";
    throw new CliError(
      `${message}${field}${token}`,
      status >= 500 ? ExitCode.unreachable : ExitCode.usage,
      status,
    );
  }
}

/** fetch puts the reason in `cause`; node:http in the error itself. */
function describeFetchError(thrown: unknown): string {
  const cause = (thrown as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (thrown as NodeJS.ErrnoException).code ?? (thrown as Error).message;
}
