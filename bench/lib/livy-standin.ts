/**
 * A bench-only Livy stand-in: real HTTP, Livy's statement and log JSON, statements that end
 * after a set number of milliseconds, one per session as orch runs them (statement 0 of
 * session <id>). It counts every request per statement,
 * notes when each statement ended, and can offer orch's long poll (as `orch engine` does) or
 * not (as Livy does). Only what tracking a statement needs: not a server to run anything on.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LONG_POLL_HEADER } from '../../src/integrations/livy/statements.ts';

interface FakeStatement {
  id: number;
  durationMs: number;
  startedAt: number;
  /** performance.now() when it ended; undefined while it runs. */
  endedAt?: number;
  requests: number;
  withProgress: boolean;
  wake: Set<() => void>;
}

export interface StandIn {
  url: string;
  /** Start statement 0 of a new session, ending after `durationMs`; the session's id. */
  start(durationMs: number, withProgress: boolean): number;
  statement(id: number): { startedAt: number; endedAt?: number; requests: number; durationMs: number };
  close(): Promise<void>;
}

const LONG_POLL_MAX_MS = 10_000;

/** Start a stand-in on a free port; `longPoll` offers orch's `?wait=&state=`. */
export async function startStandIn(options: { longPoll: boolean; logLinesPerSecond?: number }): Promise<StandIn> {
  const statements = new Map<number, FakeStatement & { log: string[] }>();
  let nextId = 0;
  const linesPerSecond = options.logLinesPerSecond ?? 4;
  // A session's log grows while its statement runs, as Spark's does.
  const logTimer = setInterval(() => {
    for (const s of statements.values()) if (s.endedAt === undefined) s.log.push(`INFO log line ${s.log.length} of statement ${s.id}`);
  }, 1000 / linesPerSecond).unref();

  const state = (s: FakeStatement) => (s.endedAt === undefined ? 'running' : 'available');
  const json = (s: FakeStatement) => ({
    id: s.id,
    code: String(s.durationMs),
    state: state(s),
    output: s.endedAt === undefined ? null : { status: 'ok', execution_count: s.id, data: { 'text/plain': 'done' } },
    progress: s.endedAt !== undefined ? 1 : s.withProgress ? Math.min(0.99, (performance.now() - s.startedAt) / s.durationMs) : 0,
    started: 1,
    completed: s.endedAt === undefined ? 0 : 2,
  });

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
    if (options.longPoll) headers[LONG_POLL_HEADER] = String(LONG_POLL_MAX_MS);
    res.writeHead(status, headers).end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const statementMatch = /^\/sessions\/(\d+)\/statements\/0$/.exec(url.pathname);
    if (statementMatch) {
      const s = statements.get(Number(statementMatch[1]));
      if (!s) return send(res, 404, 'Statement not found');
      s.requests++;
      const wait = Math.min(Number(url.searchParams.get('wait') ?? 0), LONG_POLL_MAX_MS);
      if (options.longPoll && wait > 0 && url.searchParams.get('state') === state(s)) {
        await new Promise<void>((resolve) => {
          const done = () => (clearTimeout(timer), s.wake.delete(done), resolve());
          const timer = setTimeout(done, wait);
          s.wake.add(done);
        });
      }
      return send(res, 200, json(s));
    }
    const logMatch = /^\/sessions\/(\d+)\/log$/.exec(url.pathname);
    if (logMatch) {
      const s = statements.get(Number(logMatch[1]));
      if (!s) return send(res, 404, { msg: 'Session not found' });
      s.requests++;
      const all = ['stdout: ', ...s.log, '\nstderr: '];
      const from = Number(url.searchParams.get('from') ?? Math.max(0, all.length - 100));
      const size = Number(url.searchParams.get('size') ?? 100);
      return send(res, 200, { id: s.id, from, total: all.length, log: all.slice(from, from + size) });
    }
    const sessionMatch = /^\/sessions\/(\d+)(\/state)?$/.exec(url.pathname);
    if (sessionMatch) {
      const s = statements.get(Number(sessionMatch[1]));
      if (s) s.requests++;
      return send(res, 200, { id: Number(sessionMatch[1]), state: 'idle' });
    }
    return send(res, 404, { msg: `no route ${req.method} ${url.pathname}` });
  };

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    start(durationMs, withProgress) {
      const s: FakeStatement & { log: string[] } = { id: nextId++, durationMs, startedAt: performance.now(), requests: 0, withProgress, wake: new Set(), log: [] };
      statements.set(s.id, s);
      setTimeout(() => {
        s.endedAt = performance.now();
        for (const wake of [...s.wake]) wake();
      }, durationMs);
      return s.id;
    },
    statement(id) {
      const s = statements.get(id)!;
      return { startedAt: s.startedAt, endedAt: s.endedAt, requests: s.requests, durationMs: s.durationMs };
    },
    async close() {
      clearInterval(logTimer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
