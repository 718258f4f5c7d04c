/**
 * livy.statement: open a session, wait for idle, submit the rendered code with a marker,
 * follow it (adaptive polling, progress, the session log streamed into the task log),
 * push its output to XCom — and whatever happens, cancel the statement and delete the
 * session. After a crash, `resume` finds the session by name and the statement by marker
 * and continues instead of submitting again.
 */
import { resolve } from 'node:path';
import type { OperatorImpl } from '../../core/operator.ts';
import { LivyClient, LivyStatementCancelledError, LivyStatementFailedError, type LogPosition, type LogRead, type Session, type Statement, type StatementOkOutput } from '../../integrations/livy/index.ts';
import type { Dialect, StatementOptions, TaskContext } from '../../sdk/index.ts';
import { SESSION_KIND, type ClusterBackend, type ClusterInfo } from '../cluster/backend.ts';
import type { Backends } from '../cluster/backends.ts';
import { discardStaging, prepareStaging, swapIntoPlace } from '../cluster/local-output.ts';
import { requireCluster } from '../cluster/operators.ts';
import { renderTemplate } from '../template.ts';
import { prepareCode, templateVars } from './code.ts';

type Options = Omit<StatementOptions, 'cluster'> & { cluster: string };

interface Work {
  client: LivyClient;
  sessionId?: number;
  statementId?: number;
  finished: boolean;
}

/** Livy session names: unique per run, task and try, so a restarted orch can find them. */
export function sessionName(ctx: TaskContext): string {
  return `orch-${ctx.runId}-${ctx.taskId}-${ctx.tryNumber}`.replace(/[^A-Za-z0-9_.:-]+/g, '_');
}

const markerOf = (ctx: TaskContext) => `${ctx.dagId}/${ctx.runId}/${ctx.taskId}/${ctx.tryNumber}`;

export function statementOperator(backends: Backends): OperatorImpl<Options> {
  const start = (ctx: TaskContext, options: Options) => {
    const info = requireCluster(ctx, options.cluster);
    const backend = backends.of(info);
    // Everything that can fail on bad input fails here, before the cluster is touched.
    const output = options.output === undefined ? undefined : outputDirs(ctx, options.output);
    const dialects = Array.isArray(info.dialects) ? (info.dialects as Dialect[]) : backend.dialects;
    const where = info.dialects ? `${backend.name} backend (its server at ${info.livyUrl} is an orch engine)` : `${backend.name} backend`;
    const prepared = prepareCode(ctx, options.code, where, dialects, { ...output });
    ctx.log.external('code', prepared.code);
    return { info, backend, prepared, output, work: { client: new LivyClient(backend.livyOptions(info)), finished: false } as Work };
  };

  /**
   * Around the statement: where orch shares the cluster's files, it prepares the staging
   * directory, swaps a successful output into place and drops a failed one's staging.
   * Elsewhere the code does that itself (see scala-statements/).
   */
  const settle = async (
    ctx: TaskContext,
    info: ClusterInfo,
    output: OutputDirs | undefined,
    work: (restage: () => void) => Promise<Record<string, unknown>>,
    resuming = false,
  ): Promise<unknown> => {
    const local = output !== undefined && info.localFiles === true;
    const restage = () => {
      if (local) prepareStaging(output.staging_dir);
    };
    // A resumed try's statement may still be writing its staging directory (or be done with
    // it): it is emptied only when a statement is about to be submitted.
    if (!resuming) restage();
    try {
      const result = await work(restage);
      if (!output) return result;
      if (local) {
        swapIntoPlace(output.staging_dir, output.output_dir);
        ctx.log.info(`published ${resolve(output.output_dir)}`);
      }
      return { ...result, outputDir: local ? resolve(output.output_dir) : output.output_dir };
    } catch (err) {
      if (local) discardStaging(output.staging_dir);
      throw err;
    }
  };

  return {
    async execute(ctx, options) {
      const { info, backend, prepared, output, work } = start(ctx, options);
      return settle(ctx, info, output, async () => {
        try {
          const session = await openSession(ctx, work, info, backend, SESSION_KIND[prepared.dialect], options);
          return await submitAndFollow(ctx, work, session.id, prepared.code, SESSION_KIND[prepared.dialect]);
        } finally {
          await release(ctx, work);
        }
      });
    },

    async resume(ctx, options) {
      const { info, prepared, output, work } = start(ctx, options);
      return settle(ctx, info, output, async (restage) => {
        try {
          const kind = SESSION_KIND[prepared.dialect];
          const recorded = ctx.handles.list('livy-session').find((h) => h.tryNumber === ctx.tryNumber);
          // No record: the process may have died between Livy creating the session and orch storing its id.
          const session = recorded
            ? await work.client.reattachSession({ name: String(recorded.data?.name ?? sessionName(ctx)), id: Number(recorded.externalId) }, ctx.signal)
            : await work.client.findSessionByName(sessionName(ctx), ctx.signal);
          if (!session) throw new Error(`the Livy session of try ${ctx.tryNumber} is gone; the try cannot be resumed`);
          work.sessionId = session.id;
          ctx.log.info(`reattached to Livy session ${session.id} (${session.state})`);
          const found = await work.client.findStatementByMarker(session.id, markerOf(ctx), ctx.signal);
          if (found) {
            ctx.log.info(`statement ${found.id} is still known to Livy (${found.state}); following it instead of submitting again`);
            work.statementId = found.id;
            return await follow(ctx, work, session.id, found.id);
          }
          await work.client.waitForSessionIdle(session.id, { signal: ctx.signal });
          restage();
          return await submitAndFollow(ctx, work, session.id, prepared.code, kind);
        } finally {
          await release(ctx, work);
        }
      }, true);
    },
  };
}

interface OutputDirs {
  output_dir: string;
  staging_dir: string;
}

/** The dataset directory and a staging directory unique to this try, beside it. */
function outputDirs(ctx: TaskContext, output: string): OutputDirs {
  const outputDir = renderTemplate(output, templateVars(ctx, output), `task '${ctx.taskId}' option 'output'`);
  const stagingDir = `${outputDir.replace(/\/+$/, '')}.tmp-${ctx.runId.replace(/[^A-Za-z0-9]+/g, '')}-${ctx.tryNumber}`;
  return { output_dir: outputDir, staging_dir: stagingDir };
}

async function openSession(ctx: TaskContext, work: Work, info: ClusterInfo, backend: ClusterBackend, kind: string, options: Options): Promise<Session> {
  const name = sessionName(ctx);
  const { name: _ignored, ...resources } = options.session ?? {};
  const session = await work.client.createSession({ ...resources, kind: kind as never, name }, ctx.signal);
  work.sessionId = session.id;
  // Stored the moment it is known: a crash from here on can find and delete it.
  ctx.handles.record({ kind: 'livy-session', externalId: String(session.id), url: info.livyUrl, data: { name, backend: backend.name } });
  ctx.log.info(`opened Livy session ${session.id} '${name}' (kind ${kind}) on ${info.livyUrl}`);
  await work.client.waitForSessionIdle(session.id, { signal: ctx.signal, onState: (s) => ctx.log.info(`session ${session.id}: ${s}`) });
  return session;
}

async function submitAndFollow(ctx: TaskContext, work: Work, sessionId: number, code: string, kind: string): Promise<Record<string, unknown>> {
  const st = await work.client.submitStatement(sessionId, { code, marker: markerOf(ctx), sessionKind: kind }, ctx.signal);
  work.statementId = st.id;
  ctx.handles.record({ kind: 'livy-statement', externalId: `${sessionId}/${st.id}`, data: { sessionId, statementId: st.id } });
  ctx.log.info(`submitted statement ${st.id} to session ${sessionId}`);
  return follow(ctx, work, sessionId, st.id);
}

async function follow(ctx: TaskContext, work: Work, sessionId: number, statementId: number): Promise<Record<string, unknown>> {
  let reported = -1;
  const handle = ctx.handles.list('livy-session').find((h) => h.externalId === String(sessionId));
  const reader = work.client.logReader('sessions', sessionId);
  // After a restart, continue the log where the dead process stopped: no line twice.
  if (handle?.data?.log) reader.resumeFrom(handle.data.log as LogPosition);
  const done: Statement = await waitFollowing(work, () => work.client.waitForStatement(sessionId, statementId, {
    signal: ctx.signal,
    logs: reader,
    onLog: (read: LogRead) => {
      for (const note of read.dropped) ctx.log.warn(note);
      for (const line of read.lines) ctx.log.external('livy', `${line.stream}: ${line.text}`);
      if (read.lines.length && handle) ctx.handles.record({ kind: handle.kind, externalId: handle.externalId, url: handle.url, data: { ...handle.data, log: reader.position() } });
    },
    onProgress: (p) => {
      const pct = Math.floor(p * 10) * 10;
      if (pct > reported) ctx.log.info(`statement ${statementId}: ${pct}%`);
      reported = Math.max(reported, pct);
    },
  }));
  work.finished = true;
  const output = done.output as StatementOkOutput;
  const text = output.data['text/plain'];
  if (typeof text === 'string' && text) for (const line of text.split('\n')) ctx.log.external('output', line);
  return { sessionId, statementId, output: output.data['application/json'] ?? text ?? null };
}

/** Wait; a statement that ended on the server (failed or cancelled there) needs no cancel afterwards. */
async function waitFollowing(work: Work, wait: () => Promise<Statement>): Promise<Statement> {
  try {
    return await wait();
  } catch (err) {
    if (err instanceof LivyStatementFailedError || err instanceof LivyStatementCancelledError) work.finished = true;
    throw err;
  }
}

/** Cancel what is still running and delete the session; never throws (the outcome is already decided). */
async function release(ctx: TaskContext, work: Work): Promise<void> {
  const { client, sessionId, statementId } = work;
  try {
    if (sessionId === undefined) return;
    const signal = AbortSignal.timeout(30_000);
    if (statementId !== undefined && !work.finished) {
      await client.cancelStatement(sessionId, statementId, signal).then(
        () => ctx.log.info(`cancelled statement ${statementId}`),
        (err: Error) => ctx.log.warn(`could not cancel statement ${statementId}: ${err.message}`),
      );
    }
    const deleted = await client.deleteSession(sessionId, signal).then(
      (existed) => (ctx.log.info(existed ? `deleted Livy session ${sessionId}` : `Livy session ${sessionId} was already gone`), true),
      (err: Error) => (ctx.log.warn(`could not delete Livy session ${sessionId}: ${err.message}; Livy's session timeout will end it`), false),
    );
    // A session that may still exist stays recorded as open.
    if (deleted) ctx.handles.release('livy-session', String(sessionId));
    if (statementId !== undefined) ctx.handles.release('livy-statement', `${sessionId}/${statementId}`);
  } finally {
    await client.close();
  }
}
