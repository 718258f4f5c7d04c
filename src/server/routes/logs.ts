/** One try's centralized log: paged JSON (final once the try is over) and a text download. */
import type { FastifyInstance } from 'fastify';
import { TryNotFoundError } from '../../errors.ts';
import { FINISHED_RUN_STATES, type Store, type TiKey } from '../../store/index.ts';
import type { ServerContext } from '../context.ts';
import * as S from '../schemas.ts';
import { requireTask } from './tasks.ts';

type TryParams = { Params: { dagId: string; runId: string; taskId: string; try: number } };

/**
 * Lines may still come after a try's end is recorded (a marked try stops a little later and
 * says so): its log is final once the run is over, or this long after the try ended.
 */
const SETTLE_MS = 30_000;

/** Whether try `tryNumber` of `key` will get no more log lines. */
export function tryLogFinal(store: Store, key: TiKey, tryNumber: number, now: Date): boolean {
  const ti = store.tis.get(key);
  if (!ti || (ti.tryNumber === tryNumber && (ti.state === 'running' || ti.state === 'queued'))) return false;
  const t = store.tis.tries(key).find((x) => x.tryNumber === tryNumber);
  if (!t?.endDate) return false;
  const run = store.runs.get(key.dagId, key.runId);
  return (run !== undefined && FINISHED_RUN_STATES.has(run.state)) || now.getTime() - Date.parse(t.endDate) >= SETTLE_MS;
}

export function logRoutes(app: FastifyInstance, ctx: ServerContext): void {
  /** The try named by the path: a task that has not run yet has an empty try 1, as `orch logs` shows. */
  const requireTry = (p: TryParams['Params']) => {
    const ti = requireTask(ctx, p.dagId, p.runId, p.taskId);
    if (p.try > Math.max(ti.tryNumber, 1)) throw new TryNotFoundError(p.taskId, ti.tryNumber, p.try);
    return { dagId: p.dagId, runId: p.runId, taskId: p.taskId };
  };

  app.get<TryParams & { Querystring: { cursor: number; limit: number } }>(
    '/api/v1/dags/:dagId/runs/:runId/tasks/:taskId/tries/:try/logs',
    { schema: { summary: "one try's log lines after the cursor, oldest first", tags: ['logs'], params: S.tryParams, querystring: S.logsQuery, response: S.answers(S.logPage) } },
    async (request, reply) => {
      const key = requireTry(request.params);
      const { cursor, limit } = request.query;
      // Read the end first: lines written between the two reads are then still returned.
      const ended = tryLogFinal(ctx.store, key, request.params.try, new Date());
      const rows = ctx.store.logs.read(key, request.params.try, cursor, limit + 1);
      const more = rows.length > limit;
      const lines = rows.slice(0, limit).map((r) => ({ id: r.id, ts: r.ts, level: r.level, source: r.source, message: r.message }));
      const final = ended && !more;
      void reply.header('cache-control', final ? 'private, max-age=31536000, immutable' : 'no-store');
      return { lines, cursor: lines.at(-1)?.id ?? cursor, more, final };
    },
  );

  app.get<TryParams>(
    '/api/v1/dags/:dagId/runs/:runId/tasks/:taskId/tries/:try/logs/download',
    { schema: { summary: "one try's whole log as text/plain", tags: ['logs'], params: S.tryParams, produces: ['text/plain'], response: { 200: { type: 'string' }, '4xx': S.errorBody, '5xx': S.errorBody } } },
    async (request, reply) => {
      const key = requireTry(request.params);
      const parts: string[] = [];
      for (let after = 0; ; ) {
        const rows = ctx.store.logs.read(key, request.params.try, after, 10_000);
        for (const r of rows) parts.push(`${r.ts} ${r.level} ${r.source} ${r.message}\n`);
        if (rows.length < 10_000) break;
        after = rows.at(-1)!.id;
      }
      const name = `${key.dagId}__${key.runId}__${key.taskId}__${request.params.try}.log`.replace(/[^A-Za-z0-9_.-]+/g, '_');
      return reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
        .send(parts.join(''));
    },
  );
}
