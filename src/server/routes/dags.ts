/** DAGs: the list (with load errors and DAGs only the history knows), one in full, pause, source. */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.ts';
import * as S from '../schemas.ts';
import { dagDetailView, dagSourceView, dagSummaryView } from '../views.ts';

type DagParams = { Params: { dagId: string } };

export function dagRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Querystring: { search?: string; tag?: string } }>(
    '/api/v1/dags',
    { schema: { summary: 'DAGs, their load errors, and DAG ids known only from history', tags: ['dags'], querystring: S.dagsQuery, response: S.answers(S.dagList) } },
    async (request) => {
      const { search, tag } = request.query;
      const needle = search?.toLowerCase();
      const now = new Date();
      const dags = ctx.dagBag
        .list()
        .filter((d) => !tag || d.tags.includes(tag))
        .filter((d) => !needle || [d.id, d.description ?? '', ...d.tags].some((s) => s.toLowerCase().includes(needle)));
      const loaded = new Set(ctx.dagBag.ids());
      return {
        dags: dags.map((d) => dagSummaryView(ctx.store, d, now)),
        errors: ctx.dagBag.errors(),
        historical: ctx.store.runs.dagIds().filter((id) => !loaded.has(id)),
      };
    },
  );

  app.get<DagParams>(
    '/api/v1/dags/:dagId',
    { schema: { summary: 'one DAG: tasks, params schema, schedule', tags: ['dags'], params: S.dagParams, response: S.answers(S.dagDetail) } },
    async (request) => dagDetailView(ctx.store, ctx.requireDag(request.params.dagId), new Date()),
  );

  app.patch<DagParams & { Body: { isPaused: boolean } }>(
    '/api/v1/dags/:dagId',
    { schema: { summary: 'pause or unpause a DAG', tags: ['dags'], params: S.dagParams, body: S.patchDagBody, response: S.answers(S.dagSummary) } },
    async (request) => {
      const dag = ctx.requireDag(request.params.dagId);
      ctx.store.dags.setPaused(dag.id, request.body.isPaused);
      // Unpausing may let queued runs start: standalone starts them now.
      if (!request.body.isPaused) ctx.options.kick?.();
      return dagSummaryView(ctx.store, dag, new Date());
    },
  );

  app.get<DagParams>(
    '/api/v1/dags/:dagId/source',
    { schema: { summary: "the DAG file and the statement files its tasks read (codeFile); nothing else", tags: ['dags'], params: S.dagParams, response: S.answers(S.dagSource) } },
    async (request) => dagSourceView(ctx.requireDag(request.params.dagId)),
  );
}
