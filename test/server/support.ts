/** For the server tests: a workspace with DAGs, a server over it, and an event-stream reader. */
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerOptions } from '../../src/server/app.ts';
import { PATIENCE_MS, waitFor } from '../helpers/cli.ts';
import { SDK, type Workspace } from '../helpers/dags.ts';
import { harness, type Harness } from '../helpers/scheduler.ts';

export const CSRF = { 'x-orch-csrf': '1' } as const;

/** `import { cluster, codeFile, livy }` for a DAG file (writeDag imports only `dag` and `z`). */
export const OPERATORS = `import { cluster, codeFile, livy } from ${JSON.stringify(SDK)};`;

/** A DAG with params whose `first` task logs and returns, and `second` doubles it. */
export const ALPHA = `
const d = dag({ id: 'alpha', description: 'two steps', tags: ['demo', 'small'],
  params: z.object({ size: z.number().int().min(1).default(2).describe('how many'), label: z.string().min(1).default('x') }) });
const first = d.task({ id: 'first', run: (ctx) => { ctx.log.info('size is ' + ctx.params.size); ctx.log.info('second line'); return ctx.params.size; } });
d.task({ id: 'second', upstream: [first], retries: 1, run: (ctx) => ctx.xcom.pull<number>('first') * 2 });
export default d;`;

/** A DAG whose statement tasks read code files (never run here: for the source endpoint). */
export const STMT = `${OPERATORS}
const d = dag({ id: 'stmt' });
const c = d.task({ id: 'create', operator: cluster.create() });
d.task({ id: 'load', upstream: [c], operator: livy.statement({ cluster: c, code: { duckdb: codeFile('sql/load.sql'), spark: [codeFile('sql/common.scala'), 'val x = 1'] } }) });
d.task({ id: 'again', upstream: [c], operator: livy.statement({ cluster: c, code: { duckdb: codeFile('sql/load.sql') } }) });
export default d;`;

export interface TestServer extends Harness {
  app: FastifyInstance;
  stop(): Promise<void>;
}

/** A scheduler harness over the workspace and a server over the same store. */
export async function testServer(ws: Workspace, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const h = await harness(ws);
  const app = await buildServer({ store: h.store, dagBag: h.bag, feedPollMs: 10, dagWatchMs: 100, ...options });
  return {
    ...h,
    app,
    async stop() {
      await app.close();
      h.close();
    },
  };
}

export interface SseEvent {
  event: string;
  id: string;
  data: any;
  /** performance.now() when it arrived (bench/web-render.ts measures latency with it). */
  at: number;
}

export interface EventStream {
  events: SseEvent[];
  /** Wait until an event matches; returns it. */
  next(what: string, match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** Read `url` as server-sent events into `events`. */
export async function openEvents(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (res.status !== 200) throw new Error(`events: ${res.status} ${await res.text()}`);
  const events: SseEvent[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const field = (name: string) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
          const event = field('event');
          if (event) events.push({ event, id: field('id') ?? '', data: JSON.parse(field('data') ?? 'null'), at: performance.now() });
        }
      }
    } catch {
      // Closed by the test or the server.
    }
  })();
  return {
    events,
    next: (what, match, timeoutMs = PATIENCE_MS) =>
      waitFor(what, () => events.find(match), timeoutMs, () => events.map((e) => `${e.event} ${JSON.stringify(e.data).slice(0, 160)}`).join('\n')),
    close: () => abort.abort(),
  };
}
