/** Runs: trigger, list, one in full (tasks, tries, cluster), cancel, clear, and the grid. */
import type { FastifyInstance } from 'fastify';
import { cancelRun, clearTasks } from '../../core/run-commands.ts';
import { createRun } from '../../core/runs/create-run.ts';
import { UnknownRunError } from '../../errors.ts';
import type { ServerContext } from '../context.ts';
import { BadRequestError } from '../errors.ts';
import * as S from '../schemas.ts';
import { clusterView, runView, taskView, tryView } from '../views.ts';

type RunParams = { Params: { dagId: string; runId: string } };

export function runRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const requireRun = (dagId: string, runId: string) => {
    const run = ctx.store.runs.get(dagId, runId);
    if (!run) throw new UnknownRunError(dagId, runId);
    return run;
  };

  app.post<{ Params: { dagId: string }; Body: { conf?: Record<string, unknown> } | undefined }>(
    '/api/v1/dags/:dagId/runs',
    { schema: { summary: 'trigger a run; the conf is checked against the DAG params first', tags: ['runs'], params: S.dagParams, body: S.triggerBody, response: S.answers(S.run, 201) } },
    async (request, reply) => {
      const dag = ctx.requireDag(request.params.dagId);
      const triggeredBy = request.headers['x-orch-client'] === 'web' ? 'ui' : 'api';
      const run = createRun(ctx.store, dag, { conf: request.body?.conf ?? {}, triggeredBy, runType: 'manual', now: new Date() });
      ctx.options.kick?.();
      return reply.code(201).send(runView(ctx.store.runs.get(dag.id, run.runId) ?? run));
    },
  );

  app.get<{ Params: { dagId: string }; Querystring: { limit: number; before?: string } }>(
    '/api/v1/dags/:dagId/runs',
    { schema: { summary: "a DAG's runs, newest first, a page at a time", tags: ['runs'], params: S.dagParams, querystring: S.runsQuery, response: S.answers(S.runPage) } },
    async (request) => {
      const { dagId } = request.params;
      ctx.knownDag(dagId);
      const { limit, before } = request.query;
      const from = before === undefined ? undefined : ctx.store.runs.get(dagId, before);
      if (before !== undefined && !from) throw new BadRequestError(`before: DAG '${dagId}' has no run '${before}'`, [{ path: 'before', message: `no run '${before}'` }]);
      const page = ctx.store.runs.page(dagId, limit + 1, from);
      const runs = page.slice(0, limit);
      return { runs: runs.map(runView), next: page.length > limit ? runs.at(-1)!.runId : null };
    },
  );

  app.get<RunParams>(
    '/api/v1/dags/:dagId/runs/:runId',
    { schema: { summary: 'a run with its task instances, every try and its cluster', tags: ['runs'], params: S.runParams, response: S.answers(S.runDetail) } },
    async (request) => {
      const { dagId, runId } = request.params;
      ctx.knownDag(dagId);
      const run = requireRun(dagId, runId);
      const handles = ctx.store.handles.listForRun(dagId, runId);
      return {
        ...runView(run),
        tasks: ctx.store.tis.listForRun(dagId, runId).map((ti) => taskView(ti, handles)),
        tries: ctx.store.tis.triesForRun(dagId, runId).map(tryView),
        cluster: clusterView(handles),
      };
    },
  );

  app.post<RunParams>(
    '/api/v1/dags/:dagId/runs/:runId/cancel',
    { schema: { summary: 'cancel a run (teardown tasks still run)', tags: ['runs'], params: S.runParams, response: S.answers(S.cancelAnswer) } },
    async (request) => {
      const { dagId, runId } = request.params;
      ctx.knownDag(dagId);
      const outcome = cancelRun(ctx.store, dagId, runId, new Date());
      if (outcome === 'requested') ctx.options.onCancelRequested?.(dagId, runId);
      return { outcome };
    },
  );

  app.post<RunParams & { Body: { taskIds?: string[]; downstream?: boolean } | undefined }>(
    '/api/v1/dags/:dagId/runs/:runId/clear',
    { schema: { summary: 'clear tasks (all when taskIds is left out) so they run again', tags: ['runs'], params: S.runParams, body: S.clearBody, response: S.answers(S.clearAnswer) } },
    async (request) => {
      const { dagId, runId } = request.params;
      const dag = ctx.requireDag(dagId);
      requireRun(dagId, runId);
      const cleared = clearTasks(ctx.store, dag, runId, request.body?.taskIds, request.body?.downstream ?? false);
      ctx.options.kick?.();
      return { cleared };
    },
  );

  app.get<{ Params: { dagId: string }; Querystring: { limit: number } }>(
    '/api/v1/dags/:dagId/grid',
    { schema: { summary: 'the grid: the newest runs (oldest first) by task', tags: ['runs'], params: S.dagParams, querystring: S.gridQuery, response: S.answers(S.grid) } },
    async (request) => {
      const { dagId } = request.params;
      const dag = ctx.knownDag(dagId);
      const runs = ctx.store.runs.page(dagId, request.query.limit).reverse();
      const cells: Record<string, Record<string, { state: string; tryNumber: number; startDate: string | null; endDate: string | null }>> = {};
      const seen = new Set<string>();
      for (const run of runs) {
        const row: (typeof cells)[string] = {};
        for (const ti of ctx.store.tis.listForRun(dagId, run.runId)) {
          row[ti.taskId] = { state: ti.state, tryNumber: ti.tryNumber, startDate: ti.startDate, endDate: ti.endDate };
          seen.add(ti.taskId);
        }
        cells[run.runId] = row;
      }
      // The DAG's tasks in file order; tasks only old runs had (a removed task) after them.
      const tasks = dag ? [...dag.tasks.keys()] : [];
      for (const t of seen) if (!tasks.includes(t)) tasks.push(t);
      return {
        tasks,
        runs: runs.map((r) => ({ runId: r.runId, state: r.state, startDate: r.startDate, endDate: r.endDate, runType: r.runType })),
        cells,
      };
    },
  );
}
