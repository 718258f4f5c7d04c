/**
 * livy.batch: spark-submit through Livy's /batches, with the options Airflow's LivyOperator
 * takes; the batch log streams into the task log, and an aborted task kills the batch.
 */
import type { OperatorImpl } from '../../core/operator.ts';
import { LivyClient } from '../../integrations/livy/index.ts';
import type { BatchOptions, TaskContext } from '../../sdk/index.ts';
import type { Backends } from '../cluster/backends.ts';
import { requireCluster } from '../cluster/operators.ts';
import { sessionName } from './statement.ts';

type Options = Omit<BatchOptions, 'cluster'> & { cluster: string };

export function batchOperator(backends: Backends): OperatorImpl<Options> {
  const run = async (ctx: TaskContext, options: Options, reattach: boolean) => {
    const info = requireCluster(ctx, options.cluster);
    const client = new LivyClient(backends.of(info).livyOptions(info));
    let batchId: number | undefined;
    let finished = false;
    try {
      const name = options.name ?? sessionName(ctx);
      const recorded = reattach ? ctx.handles.list('livy-batch').find((h) => h.tryNumber === ctx.tryNumber) : undefined;
      // No record: the process may have died between Livy accepting the batch and orch storing its id.
      const found = reattach && !recorded ? await client.getBatch(name, ctx.signal).catch(() => undefined) : undefined;
      if (recorded || found) {
        batchId = found ? found.id : Number(recorded!.externalId);
        ctx.log.info(`following batch ${batchId} started by this try before orch restarted`);
      } else {
        const { cluster: _c, name: _n, ...request } = options;
        const batch = await client.createBatch({ ...request, name }, ctx.signal);
        batchId = batch.id;
        ctx.handles.record({ kind: 'livy-batch', externalId: String(batch.id), url: info.livyUrl });
        ctx.log.info(`submitted batch ${batch.id} (${options.file}) to ${info.livyUrl}`);
      }
      const logs = client.logReader('batches', batchId);
      const pump = async () => {
        const read = await logs.read(ctx.signal);
        for (const note of read.dropped) ctx.log.warn(note);
        for (const line of read.lines) ctx.log.external('livy', `${line.stream}: ${line.text}`);
      };
      await client.waitForBatch(batchId, { signal: ctx.signal, onState: (s) => void pump().then(() => ctx.log.info(`batch ${batchId}: ${s}`), () => undefined) });
      await pump();
      finished = true;
      ctx.handles.release('livy-batch', String(batchId));
      return { batchId };
    } finally {
      if (batchId !== undefined && !finished) {
        await client.deleteBatch(batchId, AbortSignal.timeout(30_000)).then(
          () => ctx.log.info(`killed batch ${batchId}`),
          (err: Error) => ctx.log.warn(`could not kill batch ${batchId}: ${err.message}`),
        );
        ctx.handles.release('livy-batch', String(batchId));
      }
      await client.close();
    }
  };
  return { execute: (ctx, o) => run(ctx, o, false), resume: (ctx, o) => run(ctx, o, true) };
}
