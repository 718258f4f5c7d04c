/**
 * A statement task's Livy session: open it (a lost POST is resolved by name), submit the
 * code with a marker, follow it (the session log streamed into the task log, its position
 * recorded), record the result, and release — cancel and delete — unless the try was
 * detached, in which case everything is left running and recorded for the next owner.
 */
import { createHash } from 'node:crypto';
import { isDetached } from '../../errors.ts';
import { LivyStatementCancelledError, LivyStatementFailedError, type LivyClient, type LogPosition, type LogRead, type Outage, type Statement, type StatementOkOutput } from '../../integrations/livy/index.ts';
import type { TaskContext } from '../../sdk/index.ts';
import type { ClusterInfo } from '../cluster/backend.ts';
import type { ClusterWatch } from '../cluster/watch.ts';

/** What one try has open on Livy, and what its session handle records (`data`). */
export interface Work {
  client: LivyClient;
  info: ClusterInfo;
  /** Whether the cluster is still there, asked while Livy is silent. */
  watch: ClusterWatch;
  sessionId?: number;
  statementId?: number;
  /** The session handle's data: name, backend, engine pid, log position, and the result once known. */
  data: Record<string, unknown>;
  /** The statement ended on the server: nothing to cancel. */
  finished: boolean;
  released: boolean;
  /**
   * Leave the session and statement as they are, and why: the database failed (nothing could
   * record their end: the resume follows them), or the resume could not find out what runs.
   */
  keep?: string;
}

export const SESSION = 'livy-session';
export const STATEMENT = 'livy-statement';
export const BATCH = 'livy-batch';

/** Longest name orch gives a session or batch: Spark makes it the application name, which some cluster managers truncate. */
export const MAX_NAME_LENGTH = 100;

/**
 * Livy session and batch names: `<prefix>-<dag>-<run>-<task>-<try>`, unique per DAG, run,
 * task and try — scheduled run ids are the same in every DAG on one schedule — so a
 * restarted orch (and the reaper) finds its own work and nobody else's. A name that would
 * be too long keeps its readable start and ends with a hash of the whole, then the try.
 */
export function livyName(task: Pick<TaskContext, 'dagId' | 'runId' | 'taskId'>, tryNumber: number, prefix = 'orch'): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.:-]+/g, '_');
  const name = safe(`${prefix}-${task.dagId}-${task.runId}-${task.taskId}-${tryNumber}`);
  if (name.length <= MAX_NAME_LENGTH) return name;
  const hash = createHash('sha256').update(JSON.stringify([prefix, task.dagId, task.runId, task.taskId])).digest('hex').slice(0, 12);
  const tail = `-${hash}-${tryNumber}`;
  return safe(`${prefix}-${task.dagId}-${task.runId}-${task.taskId}`).slice(0, MAX_NAME_LENGTH - tail.length) + tail;
}

export const markerOf = (ctx: TaskContext) => `${ctx.dagId}/${ctx.runId}/${ctx.taskId}/${ctx.tryNumber}`;

/** What a handle of this cluster records besides the name: the backend, and an embedded engine's pid (the reaper checks it). */
export function handleData(info: ClusterInfo, name: string): Record<string, unknown> {
  return {
    name,
    backend: info.backend,
    ...(info.backend === 'embedded' && info.pid ? { enginePid: info.pid } : {}),
    // Where the engine's token is (not the token): the reaper needs it to delete a leftover.
    ...(typeof info.tokenFile === 'string' ? { tokenFile: info.tokenFile } : {}),
  };
}

/** Store the session handle with `patch` merged into its data (durably, at once). */
export function recordSession(ctx: TaskContext, work: Work, patch: Record<string, unknown> = {}): void {
  work.data = { ...work.data, ...patch };
  ctx.handles.record({ kind: SESSION, externalId: String(work.sessionId), url: work.info.livyUrl, data: work.data });
}

/** Open the try's session and wait until it is idle. */
export async function openSession(ctx: TaskContext, work: Work, kind: string, resources: Record<string, unknown>): Promise<void> {
  const name = String(work.data.name);
  const session = await work.client.createSessionOnce({ ...resources, kind: kind as never, name }, ctx.signal);
  work.sessionId = session.id;
  // Stored the moment it is known: a crash from here on can find and delete it.
  recordSession(ctx, work);
  ctx.log.info(`opened Livy session ${session.id} '${name}' (kind ${kind}) on ${work.info.livyUrl}`);
  await work.client.waitForSessionIdle(session.id, {
    signal: ctx.signal,
    onState: (s) => ctx.log.info(`session ${session.id}: ${s}`),
    onUnanswered: whileUnanswered(ctx, work.watch, `session ${session.id} to be idle`),
  });
}

/** Submit the code (a lost answer is resolved by its marker) and follow it. */
export async function submitAndFollow(ctx: TaskContext, work: Work, code: string, kind: string): Promise<Record<string, unknown>> {
  const sessionId = work.sessionId!;
  const st = await work.client.submitStatementOnce(sessionId, { code, marker: markerOf(ctx), sessionKind: kind }, ctx.signal);
  work.statementId = st.id;
  ctx.handles.record({ kind: STATEMENT, externalId: `${sessionId}/${st.id}`, data: { sessionId, statementId: st.id } });
  ctx.log.info(`submitted statement ${st.id} to session ${sessionId}`);
  return follow(ctx, work, st.id);
}

/** Follow a statement to its end; the result, not yet recorded. */
export async function follow(ctx: TaskContext, work: Work, statementId: number): Promise<Record<string, unknown>> {
  const sessionId = work.sessionId!;
  work.statementId = statementId;
  let reported = -1;
  let recorded = 0;
  const reader = work.client.logReader('sessions', sessionId);
  // After a restart or a detach, continue the log where the last owner stopped: no line twice.
  if (work.data.log) reader.resumeFrom(work.data.log as LogPosition);
  const done: Statement = await waitFollowing(work, () =>
    work.client.waitForStatement(sessionId, statementId, {
      signal: ctx.signal,
      onUnanswered: whileUnanswered(ctx, work.watch, `statement ${statementId}`),
      logs: reader,
      onLog: (read: LogRead) => {
        for (const note of read.dropped) ctx.log.warn(note);
        for (const line of read.lines) ctx.log.external('livy', `${line.stream}: ${line.text}`);
        if (read.lines.length) recordSession(ctx, work, { log: reader.position() });
      },
      onProgress: (p) => {
        const pct = Math.floor(p * 10) * 10;
        if (pct > reported) ctx.log.info(`statement ${statementId}: ${pct}%`);
        reported = Math.max(reported, pct);
        // For the web UI's progress bar; a write per percentage point at most, not per poll.
        const progress = Math.round(p * 100) / 100;
        if (Math.abs(progress - recorded) >= 0.01) {
          recorded = progress;
          ctx.handles.record({ kind: STATEMENT, externalId: `${sessionId}/${statementId}`, data: { sessionId, statementId, progress } });
        }
      },
    }),
  );
  const output = done.output as StatementOkOutput;
  const text = output.data['text/plain'];
  if (typeof text === 'string' && text) for (const line of text.split('\n')) ctx.log.external('output', line);
  return { sessionId, statementId, output: output.data['application/json'] ?? text ?? null };
}

/** Wait; a statement that ended on the server (done, failed or cancelled there) needs no cancel afterwards. */
async function waitFollowing(work: Work, wait: () => Promise<Statement>): Promise<Statement> {
  try {
    const done = await wait();
    work.finished = true;
    return done;
  } catch (err) {
    if (err instanceof LivyStatementFailedError || err instanceof LivyStatementCancelledError) work.finished = true;
    throw err;
  }
}

/**
 * Cancel what is still running and delete the session; never throws (the outcome is already
 * decided). A detached try leaves both running and recorded: the next owner follows them.
 */
export async function release(ctx: TaskContext, work: Work): Promise<void> {
  if (work.released) return;
  work.released = true;
  const { client, sessionId, statementId } = work;
  try {
    if (sessionId === undefined) return;
    if (isDetached(ctx.signal)) return quietly(() => ctx.log.info(`detached: Livy session ${sessionId} and its statement keep running for the next orch process`));
    if (work.keep) return quietly(() => ctx.log.warn(`Livy session ${sessionId} and its statement are left as they are: ${work.keep}`));
    const signal = AbortSignal.timeout(30_000);
    if (statementId !== undefined && !work.finished) {
      await client.cancelStatement(sessionId, statementId, signal).then(
        () => ctx.log.info(`cancelled statement ${statementId}`),
        (err: Error) => ctx.log.warn(`could not cancel statement ${statementId}: ${err.message}`),
      );
    }
    const deleted = await client.deleteSession(sessionId, signal).then(
      (existed) => (ctx.log.info(existed ? `deleted Livy session ${sessionId}` : `Livy session ${sessionId} was already gone`), true),
      (err: Error) => (ctx.log.warn(`could not delete Livy session ${sessionId}: ${err.message}; the reaper deletes it once this try has ended`), false),
    );
    // A session that may still exist stays recorded as open, for the reaper.
    if (deleted) ctx.handles.release(SESSION, String(sessionId));
    if (statementId !== undefined) ctx.handles.release(STATEMENT, `${sessionId}/${statementId}`);
  } finally {
    await client.close();
  }
}

/**
 * What a wait does while Livy does not answer its polls (a restart, a gateway hiccup): say so
 * once, and keep waiting — up to the wait's window — unless the cluster is known to be gone
 * (an engine that exited, an EMR cluster that terminated), which will not answer again.
 */
export function whileUnanswered(ctx: TaskContext, watch: ClusterWatch, what: string): (error: Error, outage: Outage) => void {
  return (error, outage) => {
    if (watch.known()) throw error;
    if (outage.failures === 1) {
      ctx.log.warn(`Livy at ${watch.info.livyUrl} did not answer (${error.message}); still waiting for ${what}, for up to ${Math.round(outage.lostAfterMs / 1000)} s`);
    }
  };
}

/** A line for the log of a detached try, whose database may be what failed: never let it throw. */
export function quietly(write: () => void): void {
  try {
    write();
  } catch {
    // The try is detached; the next owner logs for it.
  }
}
