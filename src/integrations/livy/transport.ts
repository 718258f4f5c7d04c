/**
 * The bottom layer of the client, shaped like undici's dispatcher: one primitive,
 * `send(request) → response`, over a keep-alive Pool for the Livy host. It sends the headers
 * every Livy call needs and turns network failures into LivyConnectionError; it does not
 * judge status codes (see http.ts) and does not retry or time out (see retry.ts, timeout.ts,
 * which wrap it).
 */
import { Buffer } from 'node:buffer';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { LivyConnectionError } from './errors.ts';

export type LivyMethod = 'GET' | 'POST' | 'DELETE';

export interface LivyRequest {
  method: LivyMethod;
  /** Path under the Livy base URL, e.g. `/sessions/3/statements`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
}

export interface LivyResponse {
  status: number;
  /** Full URL requested, for messages. */
  url: string;
  contentType: string;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
  /** Response headers, names in lower case (absent where a test builds a response by hand). */
  headers?: Record<string, string>;
}

/** The primitive every layer above calls. */
export type Send = (request: LivyRequest) => Promise<LivyResponse>;

export interface BasicAuth {
  username: string;
  password: string;
}

export interface HttpTransportOptions {
  /** Livy base URL; may carry a path prefix (e.g. behind Knox: `https://knox/gateway/x/livy`). */
  url: string;
  /** Extra headers sent on every request, polls included (proxies, tokens). */
  headers?: Record<string, string>;
  /** HTTP Basic credentials (Livy with LDAP auth, or a proxy in front of it). */
  auth?: BasicAuth;
  /** Value of `X-Requested-By`, which CSRF-protected Livy requires on POST/DELETE. */
  requestedBy?: string;
  /** Use this dispatcher instead of a Pool of our own (tests pass an undici MockAgent). */
  dispatcher?: Dispatcher;
}

/** Network failures worth calling "could not reach the server" (and, for GET/DELETE, retrying). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND',
  'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT',
]);

/** The error code of a network failure, looking through undici's wrappers. */
export function connectionErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
    // AggregateError (happy eyeballs: every address refused).
    const inner = (e as { errors?: unknown[] }).errors?.[0];
    const innerCode = (inner as { code?: unknown } | undefined)?.code;
    if (typeof innerCode === 'string' && CONNECTION_CODES.has(innerCode)) return innerCode;
  }
  return undefined;
}

/** Build `send` over a keep-alive Pool for the host of `options.url`; `close` ends the Pool. */
export function createHttpTransport(options: HttpTransportOptions): { send: Send; close(): Promise<void> } {
  const base = new URL(options.url);
  const origin = base.origin;
  const prefix = base.pathname.replace(/\/+$/, '');
  const ownPool = options.dispatcher ? undefined : new Pool(origin, { connections: 16, keepAliveTimeout: 30_000 });
  const dispatcher: Dispatcher = options.dispatcher ?? ownPool!;
  const headers: Record<string, string> = {
    accept: 'application/json',
    // Livy's CSRF filter rejects POST/DELETE without it; sending it always costs nothing.
    'x-requested-by': options.requestedBy ?? 'orch',
    ...lowerKeys(options.headers ?? {}),
  };
  if (options.auth) {
    headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
  }

  const send: Send = async (request) => {
    const path = prefix + request.path + queryString(request.query);
    const url = origin + path;
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    try {
      const response = await dispatcher.request({
        origin,
        path,
        method: request.method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body,
        signal: request.signal,
      });
      const text = await response.body.text();
      const contentType = String(response.headers['content-type'] ?? '');
      const responseHeaders = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
      return { status: response.statusCode, url, contentType, text, json: parseJson(text), headers: responseHeaders };
    } catch (error) {
      if (request.signal?.aborted) throw error;
      const code = connectionErrorCode(error);
      if (code) throw new LivyConnectionError(request.method, url, `${code} (${(error as Error).message || 'no message'})`, { cause: error });
      throw error;
    }
  };

  return { send, close: async () => void (await ownPool?.close()) };
}

function lowerKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
}

function queryString(query: LivyRequest['query']): string {
  const entries = Object.entries(query ?? {}).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
