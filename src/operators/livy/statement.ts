/**
 * livy.statement: open a session, wait for idle, submit the rendered code with a marker,
 * follow it, record its result — and whatever happens, cancel the statement and delete the
 * session (unless the try was detached: then both keep running for the next owner).
 *
 * The result is recorded on the session handle before the session is released, so `resume`
 * of a try that finished its statement completes from the record and never runs it again;
 * a try that had not opened a session yet simply starts, in the same try; otherwise resume
 * finds the session by name and the statement by marker and follows it. A lookup that fails
 * leaves the session and its statement as they are and fails the try; a retry deletes what
 * earlier tries left open before it opens its own session.
 */
import { resolve } from 'node:path';
import type { OperatorImpl } from '../../core/operator.ts';
import { isDetached } from '../../errors.ts';
import { LivyClient, type Statement } from '../../integrations/livy/index.ts';
import { storeFailureKind } from '../../store/index.ts';
import type { Dialect, ExternalHandle, StatementOptions, TaskContext } from '../../sdk/index.ts';
import { SESSION_KIND, type ClusterInfo } from '../cluster/backend.ts';
import type { Backends } from '../cluster/backends.ts';
import { discardStaging, finishSwap, prepareStaging, requireStaging, swapIntoPlace } from '../cluster/local-output.ts';
import type { PathLockOptions } from '../cluster/path-lock.ts';
import { NoClusterError, clusterOf, requireCluster } from '../cluster/operators.ts';
import { ClusterWatch } from '../cluster/watch.ts';
import { replacementFor } from '../cluster/replace.ts';
import { renderTemplate } from '../template.ts';
import { prepareCode, templateVars, type PreparedCode } from './code.ts';
import { clearEarlierTries } from './earlier-work.ts';
import { WorkGoneError, WorkLookupError, lookUp } from './errors.ts';
import { checkCodeIsLocal, checkLocalInputs, classifyFailure } from './inputs.ts';
import { SESSION, STATEMENT, follow, handleData, livyName, markerOf, openSession, recordSession, release, submitAndFollow, whileUnanswered, type Work } from './session.ts';

type Options = Omit<StatementOptions, 'cluster'> & { cluster: string };

interface OutputDirs {
  output_dir: string;
  staging_dir: string;
}

/** Everything one try needs, worked out before the cluster is touched. */
interface Try {
  info: ClusterInfo;
  where: string;
  prepared: PreparedCode;
  kind: string;
  output: OutputDirs | undefined;
  /** orch shares the cluster's files: it stages, checks and swaps the output itself. */
  local: boolean;
  work: Work;
}

/** Session names: `orch-<dag>-<run>-<task>-<try>`, or the task's own prefix instead of `orch`. */
export const sessionName = (ctx: TaskContext, options?: Pick<Options, 'session'>, tryNumber = ctx.tryNumber) => livyName(ctx, tryNumber, options?.session?.name);

export function statementOperator(backends: Backends): OperatorImpl<Options> {
  /** The code, dialect and output of a try, worked out from the cluster's XCom; nothing is contacted. */
  const prepare = (ctx: TaskContext, options: Options, info: ClusterInfo): Omit<Try, 'work'> => {
    const backend = backends.of(info);
    // Everything that can fail on bad input fails here, before the cluster is touched.
    const output = options.output === undefined ? undefined : outputDirs(ctx, options.output);
    const dialects = Array.isArray(info.dialects) ? (info.dialects as Dialect[]) : backend.dialects;
    const where = info.dialects ? `${backend.name} backend (its server at ${info.livyUrl} is an orch engine)` : `${backend.name} backend`;
    const prepared = prepareCode(ctx, options.code, where, dialects, { ...output });
    ctx.log.external('code', prepared.code);
    // An orch engine (duckdb) reads no object store: say so rather than relay DuckDB's `INSTALL httpfs`.
    if (prepared.dialect === 'duckdb') checkCodeIsLocal(ctx, prepared.code, where);
    return { info, where, prepared, kind: SESSION_KIND[prepared.dialect], output, local: output !== undefined && info.localFiles === true };
  };

  const start = (ctx: TaskContext, options: Options): Try => {
    const info = requireCluster(ctx, options.cluster);
    const backend = backends.of(info);
    const watch = new ClusterWatch(backend, info, ctx, options.cluster);
    const work: Work = { client: new LivyClient(backend.livyOptions(info)), info, watch, data: handleData(info, sessionName(ctx, options)), finished: false, released: false };
    return { ...prepare(ctx, options, info), work };
  };

  /** Submit anew: inputs checked, staging emptied, a session opened, the statement run. */
  const submitFresh = async (ctx: TaskContext, options: Options, t: Try) => {
    if (t.info.localFiles) checkLocalInputs(ctx, options.inputs ?? [], t.where);
    if (t.local) prepareStaging(t.output!.staging_dir);
    await clearEarlierTries(ctx, backends, t.work.client, t.info, SESSION, (tryNumber) => sessionName(ctx, options, tryNumber));
    const { name: _prefix, ...resources } = options.session ?? {};
    await openSession(ctx, t.work, t.kind, resources);
    return submitAndFollow(ctx, t.work, t.prepared.code, t.kind);
  };

  /** The statement succeeded: check its output, record the result, release the session, publish. */
  const complete = async (ctx: TaskContext, t: Try, result: Record<string, unknown>) => {
    if (t.local) requireStaging(t.output!.staging_dir);
    // Durable before the session is released: a crash from here on completes from the record.
    recordSession(ctx, t.work, { result });
    await release(ctx, t.work);
    return publish(ctx, t, result, (lock) => swapIntoPlace(t.output!.staging_dir, t.output!.output_dir, lock));
  };

  /** Run `body`; on failure explain it (missing input, cluster gone) and drop the staging directory. */
  const guarded = async (ctx: TaskContext, options: Options, t: Try, body: () => Promise<unknown>) => {
    let ok = false;
    try {
      const value = await body();
      ok = true;
      return value;
    } catch (err) {
      // A write to the database failed (a full disk): the result cannot be recorded, so the
      // statement and its session are left for the resume, as for a detached try.
      if (storeFailureKind(err)) t.work.keep = `the database could not record their end (${(err as Error).message}); the next orch process follows them`;
      throw await t.work.watch.explain(classifyFailure(ctx, err));
    } finally {
      await release(ctx, t.work);
      // A detached try's statement may still be writing its staging directory.
      if (!ok && t.local && !isDetached(ctx.signal) && !t.work.keep) discardStaging(t.output!.staging_dir);
    }
  };

  /** Resume a try whose process died: complete from its record, follow its statement, or start it. */
  const resumeOn = (ctx: TaskContext, options: Options, t: Try) => {
    const { work } = t;
    return guarded(ctx, options, t, async () => {
      const mine = ctx.handles.list(SESSION, true).filter((h) => h.tryNumber === ctx.tryNumber);
      const done = mine.find((h) => h.data?.result !== undefined);
      if (done) return completeFromRecord(ctx, t, done);
      await work.watch.requireUp();
      const open = mine.find((h) => !h.releasedAt);
      const name = String(open?.data?.name ?? work.data.name);
      if (!open && mine.length) throw new WorkGoneError('session', name, ctx.tryNumber, 'it was deleted before orch restarted, and no result was recorded');
      // No record: the process may have died between Livy creating the session and orch storing its id.
      const session = await lookUp(ctx, 'session', name, t.info.livyUrl, () =>
        open ? work.client.reattachSession({ name, id: Number(open.externalId) }, ctx.signal) : work.client.findSessionByName(name, ctx.signal),
      );
      if (!session && open) throw new WorkGoneError('session', name, ctx.tryNumber, `Livy at ${t.info.livyUrl} no longer knows it`);
      if (!session) {
        ctx.log.info(`try ${ctx.tryNumber} had not opened a Livy session before orch restarted; starting it now`);
        return complete(ctx, t, await submitFresh(ctx, options, t));
      }
      work.sessionId = session.id;
      work.data = { ...work.data, ...open?.data };
      if (!open) recordSession(ctx, work);
      ctx.log.info(`reattached to Livy session ${session.id} (${session.state})`);
      let found: Statement | undefined;
      try {
        found = await lookUp(ctx, 'statement', name, t.info.livyUrl, () => work.client.findStatementByMarker(session.id, markerOf(ctx), ctx.signal));
      } catch (err) {
        // The previous owner's statement may be running in the session: leave both as they are.
        if (err instanceof WorkLookupError) work.keep = `orch could not find out whether the statement of try ${ctx.tryNumber} runs in it; the task's next try (or the reaper) deletes them`;
        throw err;
      }
      if (found) {
        ctx.log.info(`statement ${found.id} is still known to Livy (${found.state}); following it instead of submitting again`);
        return complete(ctx, t, await follow(ctx, work, found.id));
      }
      await work.client.waitForSessionIdle(session.id, { signal: ctx.signal, onUnanswered: whileUnanswered(ctx, t.work.watch, `session ${session.id} to be idle`) });
      if (t.local) prepareStaging(t.output!.staging_dir);
      return complete(ctx, t, await submitAndFollow(ctx, work, t.prepared.code, t.kind));
    });
  };

  return {
    async execute(ctx, options) {
      // With onClusterLost 'recreate', a lost cluster is replaced and the statement submitted again on it.
      for (;;) {
        const t = start(ctx, options);
        try {
          return await guarded(ctx, options, t, async () => {
            await t.work.watch.requireUp();
            return complete(ctx, t, await submitFresh(ctx, options, t));
          });
        } catch (err) {
          if (!(await replacementFor(ctx, backends, options.cluster, t.info, err))) throw err;
        }
      }
    },

    async resume(ctx, options) {
      const t = start(ctx, options);
      try {
        return await resumeOn(ctx, options, t);
      } catch (err) {
        if (!(await replacementFor(ctx, backends, options.cluster, t.info, err))) throw err;
        return this.execute(ctx, options);
      }
    },

    plan(ctx, options) {
      const info = clusterOf(ctx, options.cluster);
      if (!info) throw new NoClusterError(ctx.taskId, options.cluster);
      const t = prepare(ctx, options, info);
      const url = info.livyUrl;
      const { name: _prefix, ...resources } = options.session ?? {};
      return {
        steps: [
          { call: `POST ${url}/sessions`, body: { ...resources, kind: t.kind, name: sessionName(ctx, options) } },
          { call: `GET ${url}/sessions/{id} until the session is idle` },
          { call: `POST ${url}/sessions/{id}/statements — ${t.prepared.dialect} code from ${t.prepared.source}, after a marker comment orch adds`, text: t.prepared.code },
          { call: `GET ${url}/sessions/{id}/statements/{n} until it ends, and the session's log as it grows` },
          ...(t.local ? [{ call: `replace ${resolve(t.output!.output_dir)} with what the statement wrote to ${resolve(t.output!.staging_dir)}` }] : []),
          { call: `DELETE ${url}/sessions/{id}` },
        ],
      };
    },

    preflight(ctx, options) {
      // Only where the statement will read this machine's files; remote clusters check their own.
      const backend = backends.current();
      if (backend.name === 'embedded') checkLocalInputs(ctx, options.inputs ?? [], `${backend.name} backend`, true);
    },
  };
}

/**
 * The try's statement had succeeded and its result was recorded before orch restarted:
 * finish without running it again — delete the session if that had not happened, and
 * finish or recognise the swap of a local output.
 */
async function completeFromRecord(ctx: TaskContext, t: Try, handle: ExternalHandle): Promise<unknown> {
  const result = handle.data!.result as Record<string, unknown>;
  ctx.log.info(`statement ${String(result.statementId)} of try ${ctx.tryNumber} had succeeded before orch restarted; completing from its recorded result, not running it again`);
  if (!handle.releasedAt) {
    const name = String(handle.data!.name);
    const session = await t.work.client.reattachSession({ name, id: Number(handle.externalId) }, ctx.signal).catch((err: Error) => {
      ctx.log.warn(`could not look up Livy session '${name}' to delete it (${err.message}); the reaper deletes it once this try has ended`);
      return null;
    });
    if (session) {
      t.work.sessionId = session.id;
      t.work.finished = true;
      await release(ctx, t.work);
    } else if (session === undefined) {
      ctx.handles.release(SESSION, handle.externalId);
    }
  }
  for (const h of ctx.handles.list(STATEMENT).filter((h) => h.tryNumber === ctx.tryNumber)) ctx.handles.release(STATEMENT, h.externalId);
  return publish(ctx, t, result, (lock) => finishSwap(t.output!.staging_dir, t.output!.output_dir, lock));
}

/** Where orch shares the cluster's files, swap the output into place (or recognise it there); add its directory to the result. */
async function publish(ctx: TaskContext, t: Try, result: Record<string, unknown>, swap: (lock: PathLockOptions) => Promise<unknown>): Promise<unknown> {
  if (!t.output) return result;
  if (t.local) {
    const how = await swap({ signal: ctx.signal, onWait: (file) => ctx.log.info(`waiting for another process to finish replacing ${resolve(t.output!.output_dir)} (it holds the lock ${file})`) });
    ctx.log.info(how === 'already' ? `${resolve(t.output.output_dir)} was already published before orch restarted` : `published ${resolve(t.output.output_dir)}`);
  }
  return { ...result, outputDir: t.local ? resolve(t.output.output_dir) : t.output.output_dir };
}

/** The dataset directory and a staging directory unique to this try (of this DAG's run: run ids repeat across DAGs), beside it. */
function outputDirs(ctx: TaskContext, output: string): OutputDirs {
  const outputDir = renderTemplate(output, templateVars(ctx, output), `task '${ctx.taskId}' option 'output'`);
  const stagingDir = `${outputDir.replace(/\/+$/, '')}.tmp-${ctx.dagId.replace(/[^A-Za-z0-9]+/g, '')}-${ctx.runId.replace(/[^A-Za-z0-9]+/g, '')}-${ctx.tryNumber}`;
  return { output_dir: outputDir, staging_dir: stagingDir };
}
