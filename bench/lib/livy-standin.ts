/**
 * A bench-only Livy stand-in: real HTTP, Livy's session, statement and log JSON, and
 * statements that end after a set number of milliseconds — one per session, as orch runs
 * them (statement 0). Sessions come two ways: `start()` makes one whose statement already
 * runs (to bench a client alone), and `POST /sessions` then `POST …/statements` make one as
 * the livy.statement operator does (to bench a whole scheduler). It counts every request
 * per session, notes when each statement ended, and can offer orch's long poll (as
 * `orch engine` does) or not (as Livy does). Not a server to run anything on.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LONG_POLL_HEADER } from '../../src/integrations/livy/statements.ts';

interface FakeStatement {
  durationMs: number;
  startedAt: number;
  /** performance.now() when it ended; undefined while it runs. */
  endedAt?: number;
  withProgress: boolean;
  wake: Set<() => void>;
}

interface FakeSession {
  id: number;
  name: string | null;
  kind: string;
  requests: number;
  log: string[];
  statement?: FakeStatement;
}

export interface StandIn {
  url: string;
  /** Start statement 0 of a new session, ending after `durationMs`; the session's id. */
  start(durationMs: number, withProgress: boolean): number;
  statement(id: number): { startedAt: number; endedAt?: number; requests: number; durationMs: number };
  /** Sessions created and not deleted, and the most that ran statements at once. */
  counts(): { open: number; created: number; peakRunning: number; requests: number };
  close(): Promise<void>;
}

export interface StandInOptions {
  longPoll: boolean;
  logLinesPerSecond?: number;
  /** How long a statement submitted by POST runs. Default 1 s. */
  statementMs?: number;
}

const LONG_POLL_MAX_MS = 10_000;

/** Start a stand-in on a free port; `longPoll` offers orch's `?wait=&state=`. */
export async function startStandIn(options: StandInOptions): Promise<StandIn> {
  const sessions = new Map<number, FakeSession>();
  let nextId = 0;
  let created = 0;
  let running = 0;
  let peakRunning = 0;
  let requests = 0;
  const linesPerSecond = options.logLinesPerSecond ?? 4;
  // A session's log grows while its statement runs, as Spark's does.
  const logTimer = setInterval(() => {
    for (const s of sessions.values()) if (s.statement && s.statement.endedAt === undefined) s.log.push(`INFO log line ${s.log.length} of session ${s.id}`);
  }, 1000 / linesPerSecond).unref();

  const newSession = (name: string | null, kind: string): FakeSession => {
    const s: FakeSession = { id: nextId++, name, kind, requests: 0, log: [] };
    sessions.set(s.id, s);
    created++;
    return s;
  };
  const run = (s: FakeSession, durationMs: number, withProgress: boolean) => {
    const st: FakeStatement = { durationMs, startedAt: performance.now(), withProgress, wake: new Set() };
    s.statement = st;
    peakRunning = Math.max(peakRunning, ++running);
    setTimeout(() => {
      st.endedAt = performance.now();
      running--;
      for (const wake of [...st.wake]) wake();
    }, durationMs);
    return st;
  };

  const state = (st: FakeStatement) => (st.endedAt === undefined ? 'running' : 'available');
  const statementJson = (s: FakeSession) => {
    const st = s.statement!;
    return {
      id: 0,
      code: `// run for ${st.durationMs} ms`,
      state: state(st),
      output: st.endedAt === undefined ? null : { status: 'ok', execution_count: 0, data: { 'text/plain': 'done' } },
      progress: st.endedAt !== undefined ? 1 : st.withProgress ? Math.min(0.99, (performance.now() - st.startedAt) / st.durationMs) : 0,
      started: 1,
      completed: st.endedAt === undefined ? 0 : 2,
    };
  };
  const sessionJson = (s: FakeSession) => ({ id: s.id, name: s.name, appId: null, owner: null, proxyUser: null, state: 'idle', kind: s.kind, appInfo: {}, log: [] });

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
    if (options.longPoll) headers[LONG_POLL_HEADER] = String(LONG_POLL_MAX_MS);
    res.writeHead(status, headers).end(text);
  };
  const body = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    let text = '';
    for await (const chunk of req) text += chunk;
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path === '/version') return send(res, 200, { version: '0.8.0-standin', revision: 'standin', branch: '', user: '', date: '', url: '' });
    if (path === '/sessions' && req.method === 'GET') {
      const all = [...sessions.values()];
      const from = Number(url.searchParams.get('from') ?? 0);
      const size = Number(url.searchParams.get('size') ?? 100);
      return send(res, 200, { from, total: all.length, sessions: all.slice(from, from + size).map(sessionJson) });
    }
    if (path === '/sessions' && req.method === 'POST') {
      const b = await body(req);
      const name = typeof b.name === 'string' ? b.name : null;
      if (name && [...sessions.values()].some((s) => s.name === name)) return send(res, 400, { msg: `Duplicate session name: ${name}` });
      return send(res, 201, sessionJson(newSession(name, typeof b.kind === 'string' ? b.kind : 'spark')));
    }
    const m = /^\/sessions\/(\d+)(\/.*)?$/.exec(path);
    const s = m ? sessions.get(Number(m[1])) : undefined;
    if (!m) return send(res, 404, { msg: `no route ${req.method} ${path}` });
    if (!s) return send(res, 404, path.includes('/statements/') ? 'Statement not found' : { msg: `Session '${m[1]}' not found.` });
    s.requests++;
    const rest = m[2] ?? '';
    if (rest === '' && req.method === 'DELETE') {
      sessions.delete(s.id);
      return send(res, 200, { msg: 'deleted' });
    }
    if (rest === '' || rest === '/state') return send(res, 200, rest ? { id: s.id, state: 'idle' } : sessionJson(s));
    if (rest === '/statements' && req.method === 'POST') {
      await body(req);
      if (s.statement) return send(res, 400, { msg: 'the stand-in runs one statement per session' });
      run(s, options.statementMs ?? 1000, true);
      return send(res, 201, statementJson(s));
    }
    if (rest === '/statements') return send(res, 200, { total_statements: s.statement ? 1 : 0, statements: s.statement ? [statementJson(s)] : [] });
    if (rest === '/statements/0') {
      const st = s.statement;
      if (!st) return send(res, 404, 'Statement not found');
      const wait = Math.min(Number(url.searchParams.get('wait') ?? 0), LONG_POLL_MAX_MS);
      if (options.longPoll && wait > 0 && url.searchParams.get('state') === state(st)) {
        await new Promise<void>((resolve) => {
          const done = () => (clearTimeout(timer), st.wake.delete(done), resolve());
          const timer = setTimeout(done, wait);
          st.wake.add(done);
        });
      }
      return send(res, 200, statementJson(s));
    }
    if (rest === '/log') {
      const all = ['stdout: ', ...s.log, '\nstderr: '];
      const from = Number(url.searchParams.get('from') ?? Math.max(0, all.length - 100));
      const size = Number(url.searchParams.get('size') ?? 100);
      return send(res, 200, { id: s.id, from, total: all.length, log: all.slice(from, from + size) });
    }
    return send(res, 404, { msg: `no route ${req.method} ${path}` });
  };

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    start(durationMs, withProgress) {
      const s = newSession(null, 'spark');
      run(s, durationMs, withProgress);
      return s.id;
    },
    statement(id) {
      const s = sessions.get(id)!;
      const st = s.statement!;
      return { startedAt: st.startedAt, endedAt: st.endedAt, requests: s.requests, durationMs: st.durationMs };
    },
    counts: () => ({ open: sessions.size, created, peakRunning, requests }),
    async close() {
      clearInterval(logTimer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
