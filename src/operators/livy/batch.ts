/**
 * livy.batch: spark-submit through Livy's /batches, with the options Airflow's LivyOperator
 * takes; the batch log streams into the task log, and an aborted task kills the batch
 * (unless the try was detached: then the batch runs on for the next owner).
 *
 * Each try's batch has a unique name (`<name>-<dag>-<run>-<task>-<try>`). Resume finds it by
 * its recorded id checked against that name, or by listing (every Livy version), and never
 * submits again after a lookup that failed; a batch whose success was recorded is not
 * looked up at all. A batch the database could not record is left running for the resume,
 * and a retry deletes what earlier tries left running before it submits its own.
 */
import type { OperatorImpl } from '../../core/operator.ts';
import { isDetached } from '../../errors.ts';
import { LivyClient, type Batch, type LogPosition } from '../../integrations/livy/index.ts';
import type { BatchOptions, ExternalHandle, TaskContext } from '../../sdk/index.ts';
import { storeFailureKind } from '../../store/index.ts';
import type { ClusterInfo } from '../cluster/backend.ts';
import type { Backends } from '../cluster/backends.ts';
import { NoClusterError, clusterOf, requireCluster } from '../cluster/operators.ts';
import { ClusterWatch } from '../cluster/watch.ts';
import { clearEarlierTries } from './earlier-work.ts';
import { WorkGoneError, lookUp } from './errors.ts';
import { BATCH, handleData, livyName, quietly, whileUnanswered } from './session.ts';

type Options = Omit<BatchOptions, 'cluster'> & { cluster: string };

export { BATCH };

export function batchOperator(backends: Backends): OperatorImpl<Options> {
  const run = async (ctx: TaskContext, options: Options, resuming: boolean) => {
    const info = requireCluster(ctx, options.cluster);
    const backend = backends.of(info);
    const watch = new ClusterWatch(backend, info, ctx, options.cluster);
    const client = new LivyClient(backend.livyOptions(info));
    const name = livyName(ctx, ctx.tryNumber, options.name);
    let data = handleData(info, name);
    let batchId: number | undefined;
    let finished = false;
    /** Why the batch is left running though this try ends (the database failed: the resume follows it). */
    let keep: string | undefined;
    const record = (patch: Record<string, unknown> = {}) => {
      data = { ...data, ...patch };
      ctx.handles.record({ kind: BATCH, externalId: String(batchId), url: info.livyUrl, data });
    };
    try {
      const mine = resuming ? ctx.handles.list(BATCH, true).filter((h) => h.tryNumber === ctx.tryNumber) : [];
      const done = mine.find((h) => h.data?.result !== undefined);
      if (done) {
        ctx.log.info(`batch ${done.externalId} of try ${ctx.tryNumber} had succeeded before orch restarted; completing from its recorded result`);
        finished = true;
        ctx.handles.release(BATCH, done.externalId);
        return done.data!.result;
      }
      await watch.requireUp();
      const found = resuming ? await findOwn(ctx, client, info, name, mine) : undefined;
      if (found) {
        batchId = found.batch.id;
        data = { ...data, ...found.data };
        record();
        ctx.log.info(`following batch ${batchId} ('${name}') started by this try before orch restarted`);
      } else {
        if (resuming) ctx.log.info(`try ${ctx.tryNumber} had not submitted its batch before orch restarted; submitting it now`);
        await clearEarlierTries(ctx, backends, client, info, BATCH, (tryNumber) => livyName(ctx, tryNumber, options.name));
        const { cluster: _c, name: _n, ...request } = options;
        const batch = await client.createBatchOnce({ ...request, name }, ctx.signal);
        batchId = batch.id;
        record();
        ctx.log.info(`submitted batch ${batch.id} (${options.file}) as '${name}' to ${info.livyUrl}`);
      }
      const id = batchId;
      const logs = client.logReader('batches', id);
      if (data.log) logs.resumeFrom(data.log as LogPosition);
      const pump = async () => {
        const read = await logs.read(ctx.signal);
        for (const note of read.dropped) ctx.log.warn(note);
        for (const line of read.lines) ctx.log.external('livy', `${line.stream}: ${line.text}`);
        if (read.lines.length) record({ log: logs.position() });
      };
      await client.waitForBatch(id, {
        signal: ctx.signal,
        onState: (s) => void pump().then(() => ctx.log.info(`batch ${id}: ${s}`), () => undefined),
        onUnanswered: whileUnanswered(ctx, watch, `batch ${id}`),
      });
      await pump();
      finished = true;
      const result = { batchId: id };
      // Durable before the handle is released: a crash from here on completes from the record.
      record({ result });
      ctx.handles.release(BATCH, String(id));
      return result;
    } catch (err) {
      // A write to the database failed (a full disk): nothing can record the batch's end, so it
      // is left running for the resume, which finds it by its name — as for a detached try.
      if (storeFailureKind(err)) keep = `the database could not record it (${(err as Error).message})`;
      throw await watch.explain(err);
    } finally {
      if (batchId !== undefined && !finished && keep) {
        quietly(() => ctx.log.warn(`batch ${batchId} is left running for the next orch process: ${keep}`));
      } else if (batchId !== undefined && !finished && !isDetached(ctx.signal)) {
        await client.deleteBatch(batchId, AbortSignal.timeout(30_000)).then(
          () => (ctx.log.info(`killed batch ${batchId}`), ctx.handles.release(BATCH, String(batchId))),
          (err: Error) => ctx.log.warn(`could not kill batch ${batchId}: ${err.message}; the reaper kills it once this try has ended`),
        );
      }
      await client.close();
    }
  };
  return {
    execute: (ctx, o) => run(ctx, o, false),
    resume: (ctx, o) => run(ctx, o, true),
    plan(ctx, options) {
      const info = clusterOf(ctx, options.cluster);
      if (!info) throw new NoClusterError(ctx.taskId, options.cluster);
      const { cluster: _c, name: _n, ...request } = options;
      return {
        steps: [
          { call: `POST ${info.livyUrl}/batches`, body: { ...request, name: livyName(ctx, ctx.tryNumber, options.name) } },
          { call: `GET ${info.livyUrl}/batches/{id} until it ends, and its log as it grows` },
        ],
      };
    },
  };
}

/**
 * The batch this try submitted before orch restarted: by the recorded id checked against its
 * name, or — no record: the process may have died between Livy accepting the batch and orch
 * storing its id — by listing. Undefined when nothing was submitted; a lookup that fails
 * fails the try (submitting again could run the batch twice).
 */
async function findOwn(ctx: TaskContext, client: LivyClient, info: ClusterInfo, name: string, mine: ExternalHandle[]): Promise<{ batch: Batch; data?: Readonly<Record<string, unknown>> } | undefined> {
  const open = mine.find((h) => !h.releasedAt);
  if (!open && mine.length) throw new WorkGoneError('batch', name, ctx.tryNumber, 'it ended before orch restarted, and no result was recorded');
  const batch: Batch | undefined = await lookUp(ctx, 'batch', name, info.livyUrl, () =>
    open ? client.reattachBatch({ name, id: Number(open.externalId) }, ctx.signal) : client.findBatchByName(name, ctx.signal),
  );
  if (!batch && open) throw new WorkGoneError('batch', name, ctx.tryNumber, `Livy at ${info.livyUrl} no longer knows it (restarted?)`);
  return batch && { batch, data: open?.data };
}
