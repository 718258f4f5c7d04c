/**
 * A tiny HTTP proxy in front of the engine that records every request and injects what only
 * a real cluster produces: gateway errors, connection resets, rewritten bodies (a session
 * dying, `output: null` after `available`), stripped headers, hung responses. Each fault
 * rule sees the request and decides; unmatched requests pass through to the engine.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export interface Hit {
  method: string;
  /** Path with query string. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The status the target answered with, once it did (forwarded requests only). */
  status?: number;
}

export type FaultAction =
  /** Answer directly with this status and body. */
  | { reply: number; body: string; contentType?: string }
  /** Destroy the socket without answering (a connection reset). */
  | { reset: true }
  /** Forward, but destroy the socket instead of returning the answer (a POST applied, its answer lost). */
  | { resetAfterForward: true }
  /** Forward, then never return the answer (the caller is stuck right after the server acted: kill it there). */
  | { hangAfterForward: true }
  /** Never answer (a hung server). */
  | { hang: true }
  /** Forward, then change the JSON body before returning it. */
  | { rewrite: (json: any) => any }
  /** Forward without these request headers. */
  | { dropHeaders: string[] };

/** Return an action to inject a fault, or undefined to pass the request through. */
export type Fault = (hit: Hit) => FaultAction | undefined;

export interface FaultProxy {
  url: string;
  hits: Hit[];
  faults: Fault[];
  /** Hits whose method and path (without query) match. */
  count(method: string, path: string | RegExp): number;
  close(): Promise<void>;
}

/** Start a proxy to `target` on 127.0.0.1. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const hits: Hit[] = [];
  const faults: Fault[] = [];
  const server = createServer((req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const hit: Hit = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString() };
    hits.push(hit);
    let action: FaultAction | undefined;
    for (const fault of faults) {
      action = fault(hit);
      if (action) break;
    }
    if (action && 'reply' in action) {
      res.writeHead(action.reply, { 'content-type': action.contentType ?? 'application/json' }).end(action.body);
      return;
    }
    if (action && 'reset' in action) return void req.socket.destroy();
    if (action && 'hang' in action) return;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value !== 'string' || ['host', 'connection', 'content-length', 'keep-alive'].includes(name)) continue;
      if (action && 'dropHeaders' in action && action.dropHeaders.includes(name)) continue;
      headers[name] = value;
    }
    const upstream = await request(target + hit.url, {
      method: hit.method as 'GET',
      headers,
      body: hit.method === 'GET' ? undefined : hit.body,
    });
    let body = await upstream.body.text();
    hit.status = upstream.statusCode;
    if (action && 'resetAfterForward' in action) return void req.socket.destroy();
    if (action && 'hangAfterForward' in action) return;
    if (action && 'rewrite' in action && body) body = JSON.stringify(action.rewrite(JSON.parse(body)));
    const out: Record<string, string> = {};
    for (const name of ['content-type', 'location']) {
      const value = upstream.headers[name];
      if (typeof value === 'string') out[name] = value;
    }
    res.writeHead(upstream.statusCode, out).end(body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    faults,
    count: (method, path) =>
      hits.filter((h) => h.method === method && (typeof path === 'string' ? h.url.split('?')[0] === path : path.test(h.url))).length,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fault that fires `times` times for requests matching method and path (regex on the URL). */
export function nth(method: string, path: RegExp, action: FaultAction | ((hit: Hit) => FaultAction), times = 1): Fault {
  let left = times;
  return (hit) => {
    if (left <= 0 || hit.method !== method || !path.test(hit.url)) return undefined;
    left--;
    return typeof action === 'function' ? action(hit) : action;
  };
}
