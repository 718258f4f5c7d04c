/** `GET /api/v1/events`: server-sent events from the change feed, filtered per client. */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import type { FeedEvent } from '../change-feed.ts';
import { BadRequestError } from '../errors.ts';
import * as S from '../schemas.ts';
import { requireTask } from './tasks.ts';

type EventsQuery = { dagId?: string; runId?: string; logRun?: string; logTask?: string; logTry?: number; logCursor?: number };

/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** A client this far behind (a stalled tab) is cut off; its EventSource reconnects and resumes. */
const MAX_BUFFERED = 8 * 1024 * 1024;

export function eventRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: EventsQuery & { token?: string } }>(
    '/api/v1/events',
    { schema: { summary: 'server-sent events: dag, run, task, try, handle, log, dags', tags: ['events'], querystring: S.eventsQuery, produces: ['text/event-stream'] } },
    async (request, reply) => {
      const { dagId, runId, logRun, logTask, logTry, logCursor } = request.query;
      if (runId && !dagId) throw new BadRequestError('runId needs dagId', [{ path: 'runId', message: 'give dagId too' }]);
      if ((logTask === undefined) !== (logTry === undefined)) {
        const missing = logTask === undefined ? 'logTask' : 'logTry';
        throw new BadRequestError(`logTask and logTry go together`, [{ path: missing, message: `${missing} is needed with ${missing === 'logTask' ? 'logTry' : 'logTask'}` }]);
      }
      // The followed log names its own run (logRun): the state events keep whatever filter
      // the page needs (the whole DAG for a grid, one run for a graph).
      if (logTask !== undefined && (!dagId || !logRun)) throw new BadRequestError('logTask needs dagId and logRun', [{ path: dagId ? 'logRun' : 'dagId', message: 'needed with logTask' }]);
      if (logRun !== undefined && logTask === undefined) throw new BadRequestError('logRun goes with logTask and logTry', [{ path: 'logTask', message: 'needed with logRun' }]);
      if (dagId) ctx.knownDag(dagId);
      if (logTask !== undefined) requireTask(ctx, dagId!, logRun!, logTask);
      const log = logTask !== undefined ? { key: { dagId: dagId!, runId: logRun!, taskId: logTask }, tryNumber: logTry!, cursor: logCursor } : undefined;

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      res.write('retry: 1000\n: connected\n\n');
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(keepalive);
        unsubscribe?.();
        res.end();
      };
      const send = (e: FeedEvent) => {
        if (ended) return;
        res.write(`id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
        if (res.writableLength > MAX_BUFFERED) end();
      };
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      let unsubscribe: (() => void) | undefined;
      request.raw.on('close', end);
      const lastEventId = request.headers['last-event-id'];
      unsubscribe = ctx.feed.subscribe({ dagId, runId, log }, send, end, typeof lastEventId === 'string' ? lastEventId : undefined);
      if (ended) unsubscribe();
    },
  );
}
