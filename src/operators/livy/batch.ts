/**
 * livy.batch: spark-submit through Livy's /batches, with the options Airflow's LivyOperator
 * takes; the batch log streams into the task log, and an aborted task kills the batch
 * (unless the try was detached: then the batch runs on for the next owner).
 *
 * Each try's batch has a unique name (`<name>-<run>-<task>-<try>`). Resume finds it by its
 * recorded id checked against that name, or by listing (every Livy version), and never
 * submits again after a lookup that failed; a batch whose success was recorded is not
 * looked up at all.
 */
import type { OperatorImpl } from '../../core/operator.ts';
import { isDetached } from '../../errors.ts';
import { LivyClient, type Batch, type LogPosition } from '../../integrations/livy/index.ts';
import type { BatchOptions, ExternalHandle, TaskContext } from '../../sdk/index.ts';
import type { ClusterInfo } from '../cluster/backend.ts';
import type { Backends } from '../cluster/backends.ts';
import { explainLoss, requireCluster } from '../cluster/operators.ts';
import { WorkGoneError, WorkLookupError } from './errors.ts';
import { handleData, livyName } from './session.ts';

type Options = Omit<BatchOptions, 'cluster'> & { cluster: string };

export const BATCH = 'livy-batch';

export function batchOperator(backends: Backends): OperatorImpl<Options> {
  const run = async (ctx: TaskContext, options: Options, resuming: boolean) => {
    const info = requireCluster(ctx, options.cluster);
    const client = new LivyClient(backends.of(info).livyOptions(info));
    const name = livyName(ctx, options.name);
    let data = handleData(info, name);
    let batchId: number | undefined;
    let finished = false;
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
      const found = resuming ? await findOwn(ctx, client, info, name, mine) : undefined;
      if (found) {
        batchId = found.batch.id;
        data = { ...data, ...found.data };
        record();
        ctx.log.info(`following batch ${batchId} ('${name}') started by this try before orch restarted`);
      } else {
        if (resuming) ctx.log.info(`try ${ctx.tryNumber} had not submitted its batch before orch restarted; submitting it now`);
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
      await client.waitForBatch(id, { signal: ctx.signal, onState: (s) => void pump().then(() => ctx.log.info(`batch ${id}: ${s}`), () => undefined) });
      await pump();
      finished = true;
      const result = { batchId: id };
      // Durable before the handle is released: a crash from here on completes from the record.
      record({ result });
      ctx.handles.release(BATCH, String(id));
      return result;
    } catch (err) {
      throw explainLoss(err, ctx, options.cluster, info);
    } finally {
      if (batchId !== undefined && !finished && !isDetached(ctx.signal)) {
        await client.deleteBatch(batchId, AbortSignal.timeout(30_000)).then(
          () => (ctx.log.info(`killed batch ${batchId}`), ctx.handles.release(BATCH, String(batchId))),
          (err: Error) => ctx.log.warn(`could not kill batch ${batchId}: ${err.message}; the reaper kills it once this try has ended`),
        );
      }
      await client.close();
    }
  };
  return { execute: (ctx, o) => run(ctx, o, false), resume: (ctx, o) => run(ctx, o, true) };
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
  let batch: Batch | undefined;
  try {
    batch = open ? await client.reattachBatch({ name, id: Number(open.externalId) }, ctx.signal) : await client.findBatchByName(name, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new WorkLookupError('batch', name, ctx.tryNumber, info.livyUrl, (err as Error).message, { cause: err });
  }
  if (!batch && open) throw new WorkGoneError('batch', name, ctx.tryNumber, `Livy at ${info.livyUrl} no longer knows it (restarted?)`);
  return batch && { batch, data: open?.data };
}
