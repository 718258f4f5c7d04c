/** One task instance of a run: its tries, Livy and cluster handles, XCom; and marking it by hand. */
import type { FastifyInstance } from 'fastify';
import { markTask } from '../../core/run-commands.ts';
import { UnknownRunError, UnknownTaskError } from '../../errors.ts';
import type { TaskInstanceRow } from '../../store/index.ts';
import type { ServerContext } from '../context.ts';
import * as S from '../schemas.ts';
import { handleView, taskView, tryView } from '../views.ts';

type TaskParams = { Params: { dagId: string; runId: string; taskId: string } };

/** The task instance named by the path, or the 404 that says which part is unknown. */
export function requireTask(ctx: ServerContext, dagId: string, runId: string, taskId: string): TaskInstanceRow {
  ctx.knownDag(dagId);
  if (!ctx.store.runs.get(dagId, runId)) throw new UnknownRunError(dagId, runId);
  const ti = ctx.store.tis.get({ dagId, runId, taskId });
  if (!ti) throw new UnknownTaskError(dagId, taskId, ctx.store.tis.listForRun(dagId, runId).map((t) => t.taskId));
  return ti;
}

export function taskRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get<TaskParams>(
    '/api/v1/dags/:dagId/runs/:runId/tasks/:taskId',
    { schema: { summary: 'a task instance with its tries, handles (cluster, Livy ids, progress) and XCom', tags: ['tasks'], params: S.taskParams, response: S.answers(S.taskDetail) } },
    async (request) => {
      const { dagId, runId, taskId } = request.params;
      const ti = requireTask(ctx, dagId, runId, taskId);
      const key = { dagId, runId, taskId };
      const handles = ctx.store.handles.listForTask(key, { includeReleased: true });
      return {
        ...taskView(ti, handles),
        tries: ctx.store.tis.tries(key).map(tryView),
        handles: handles.map(handleView),
        xcom: ctx.store.xcom.listForTask(key),
      };
    },
  );

  app.post<TaskParams & { Body: { state: 'success' | 'failed'; downstream?: boolean } }>(
    '/api/v1/dags/:dagId/runs/:runId/tasks/:taskId/mark',
    { schema: { summary: "set a task's state by hand (a running try is stopped)", tags: ['tasks'], params: S.taskParams, body: S.markBody, response: S.answers(S.markAnswer) } },
    async (request) => {
      const { dagId, runId, taskId } = request.params;
      const dag = ctx.requireDag(dagId);
      return markTask(ctx.store, dag, runId, taskId, request.body.state, new Date(), request.body.downstream ?? false);
    },
  );
}
