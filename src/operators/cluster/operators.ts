/** cluster.create, cluster.waitReady, cluster.terminate: the lifecycle around the Livy work. */
import type { OperatorImpl } from '../../core/operator.ts';
import { durationMs, type ClusterCreateOptions, type Duration, type TaskContext } from '../../sdk/index.ts';
import type { ClusterInfo } from './backend.ts';
import type { Backends } from './backends.ts';

/** The ClusterInfo a cluster.create task pushed; undefined if it never got that far. */
export function clusterOf(ctx: TaskContext, taskId: string): ClusterInfo | undefined {
  return ctx.xcom.get<ClusterInfo>(taskId) ?? undefined;
}

export function clusterOperators(backends: Backends): Record<string, OperatorImpl<any>> {
  const create: OperatorImpl<ClusterCreateOptions> = {
    execute: (ctx, options) => backends.current().create(ctx, options),
    async resume(ctx, options) {
      // A crash during create: reuse the cluster that try started rather than starting another.
      const found = await backends.current().reattach(ctx, options);
      return found ?? backends.current().create(ctx, options);
    },
  };

  const waitReady: OperatorImpl<{ cluster: string; timeout?: Duration }> = {
    async execute(ctx, options) {
      const info = clusterOf(ctx, options.cluster);
      if (!info) throw new Error(`task '${options.cluster}' pushed no cluster to wait for`);
      await backends.of(info).waitReady(ctx, info, durationMs(options.timeout ?? '10m'));
      return info;
    },
  };
  waitReady.resume = waitReady.execute;

  const terminate: OperatorImpl<{ cluster: string }> = {
    async execute(ctx, options) {
      const info = clusterOf(ctx, options.cluster);
      if (!info) {
        ctx.log.info(`task '${options.cluster}' created no cluster; nothing to terminate`);
        return null;
      }
      await backends.of(info).terminate(ctx, info);
      return { terminated: info.clusterId };
    },
  };
  terminate.resume = terminate.execute;

  return { 'cluster.create': create, 'cluster.waitReady': waitReady, 'cluster.terminate': terminate };
}
