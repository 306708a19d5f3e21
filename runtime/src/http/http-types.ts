import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** A parsed request as handlers see it. */
export type HttpRequest = {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  readonly headers: IncomingHttpHeaders;
  readonly params: Record<string, string>;
  readonly body: unknown;
};

/** What a handler answers: JSON (`body`), a stream, or nothing. */
export type HttpAnswer = {
  readonly status: number;
  readonly headers?: Record<string, string | number>;
  readonly body?: unknown;
  readonly stream?: Readable;
  /** Plain text instead of JSON (metrics, Go's http.Error answers). */
  readonly text?: string;
};

export type HttpHandler = (req: HttpRequest) => HttpAnswer | Promise<HttpAnswer>;

/** Where modules and pipelines register routes; `pattern` uses `{id}`, `:id` or a trailing `*`. */
export type RouteTable = {
  add(method: string, pattern: string, handler: HttpHandler): void;
  /** Whether a route of that method and shape is already declared. */
  has?(method: string, pattern: string): boolean;
};

/** A route middleware: null lets the request through, an answer stops it. */
export type HttpGuard = (req: HttpRequest) => Promise<HttpAnswer | null>;
