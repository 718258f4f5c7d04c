/** cluster.create, cluster.waitReady, cluster.terminate: the lifecycle around the Livy work. */
import { readFileSync } from 'node:fs';
import type { OperatorImpl } from '../../core/operator.ts';
import { OrchError } from '../../errors.ts';
import { pidAlive } from '../../util/process.ts';
import { durationMs, type ClusterCreateOptions, type Duration, type TaskContext } from '../../sdk/index.ts';
import type { ClusterInfo } from './backend.ts';
import type { Backends } from './backends.ts';

/** The ClusterInfo a cluster.create task pushed; undefined if it never got that far. */
export function clusterOf(ctx: TaskContext, taskId: string): ClusterInfo | undefined {
  return ctx.xcom.get<ClusterInfo>(taskId) ?? undefined;
}

/** Clusters created in this run to replace `createTask`'s after a loss (onClusterLost 'recreate'), oldest first. */
export function replacementsOf(ctx: TaskContext, createTask: string): { taskId: string; info: ClusterInfo }[] {
  return ctx.handles
    .inRun('cluster')
    .filter((h) => h.data?.createTask === createTask && h.data?.replaces && h.data?.info)
    .map((h) => ({ taskId: h.taskId!, info: h.data!.info as ClusterInfo }));
}

/** The cluster a task of `createTask` uses now: the newest replacement, else the one it created. */
export function currentCluster(ctx: TaskContext, createTask: string): ClusterInfo | undefined {
  return replacementsOf(ctx, createTask).at(-1)?.info ?? clusterOf(ctx, createTask);
}

export class ClusterGoneError extends OrchError {
  override readonly retryable = false;
  constructor(taskId: string, createTask: string, clusterId: string, readonly fate = 'terminated?', options?: ErrorOptions) {
    super(
      'ORCH_CLUSTER_GONE',
      `task '${taskId}' needs the cluster ${clusterId} created by '${createTask}', but it is no longer running (${fate}); clear '${createTask}' with --downstream to create it again`,
      options,
    );
  }
}

/**
 * What became of a cluster orch can see die (an embedded engine on this machine): "engine
 * pid N exited; last lines of its log: …". Undefined while it runs, or where orch cannot tell.
 */
export function clusterFate(info: ClusterInfo): string | undefined {
  const pid = Number(info.pid);
  if (info.backend !== 'embedded' || !pid || pidAlive(pid)) return undefined;
  let tail = '';
  try {
    const lines = readFileSync(String(info.logFile), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    tail = lines.slice(-5).join(' | ');
  } catch {
    // No log (removed with ORCH_HOME): the exit alone is the fate.
  }
  return `engine pid ${pid} exited${tail ? `; last lines of its log: ${tail}` : ''}`;
}

export class NoClusterError extends OrchError {
  override readonly retryable = false;
  constructor(taskId: string, createTask: string) {
    super(
      'ORCH_NO_CLUSTER',
      `task '${taskId}' needs a cluster from '${createTask}', which has not pushed one in this run (it did not run or failed; \`orch tasks test\` does not run upstream tasks)`,
    );
  }
}

/** The cluster a task uses, checked to be still there where orch can tell (embedded). */
export function requireCluster(ctx: TaskContext, createTask: string): ClusterInfo {
  const info = currentCluster(ctx, createTask);
  if (!info) throw new NoClusterError(ctx.taskId, createTask);
  const pid = Number(info.pid);
  if (info.backend === 'embedded' && pid && !pidAlive(pid)) throw new ClusterGoneError(ctx.taskId, createTask, info.clusterId, clusterFate(info));
  return info;
}

export function clusterOperators(backends: Backends): Record<string, OperatorImpl<any>> {
  /** What a create pushes: where the cluster is, and with 'recreate' how to make another like it. */
  const withPolicy = (info: ClusterInfo, options: ClusterCreateOptions): ClusterInfo =>
    options.onClusterLost === 'recreate' ? { ...info, recreate: { options } } : info;
  const create: OperatorImpl<ClusterCreateOptions> = {
    execute: async (ctx, options) => withPolicy(await backends.current().create(ctx, options), options),
    plan: (ctx, options, hints) => backends.current().planCreate(ctx, options, hints),
    // Bad cluster settings fail the run before anything is created.
    preflight: (ctx, options) => backends.current().check?.(ctx, options),
    async resume(ctx, options) {
      // A crash during create: reuse the cluster that try started rather than starting another.
      const found = await backends.current().reattach(ctx, options);
      return withPolicy(found ?? (await backends.current().create(ctx, options)), options);
    },
  };

  const waitReady: OperatorImpl<{ cluster: string; timeout?: Duration }> = {
    async execute(ctx, options) {
      const info = requireCluster(ctx, options.cluster);
      await backends.of(info).waitReady(ctx, info, durationMs(options.timeout ?? '10m'));
      return info;
    },
  };
  waitReady.resume = waitReady.execute;
  waitReady.plan = (ctx, options) => {
    const info = clusterOf(ctx, options.cluster);
    if (!info) throw new NoClusterError(ctx.taskId, options.cluster);
    return { steps: backends.of(info).planWaitReady(info, durationMs(options.timeout ?? '10m')), result: info };
  };

  const terminate: OperatorImpl<{ cluster: string }> = {
    async execute(ctx, options) {
      const info = clusterOf(ctx, options.cluster);
      if (!info) {
        ctx.log.info(`task '${options.cluster}' created no cluster; nothing to terminate`);
        return null;
      }
      // The replacements made after losses first (the newest is the one in use), then the first cluster.
      const replacements = replacementsOf(ctx, options.cluster);
      for (const r of replacements.reverse()) {
        await backends.of(r.info).terminate(ctx, r.info);
        ctx.handles.release('cluster', r.info.clusterId, r.taskId);
      }
      await backends.of(info).terminate(ctx, info);
      // Stopped, or found already gone: the cluster handle of the create task says so now
      // (its releasedAt is when the cluster ended), not only at a later reaper pass.
      ctx.handles.release('cluster', info.clusterId, options.cluster);
      return { terminated: [info.clusterId, ...replacements.map((r) => r.info.clusterId)].join(', ') };
    },
  };
  terminate.resume = terminate.execute;
  terminate.plan = (ctx, options) => {
    const info = clusterOf(ctx, options.cluster);
    return { steps: info ? backends.of(info).planTerminate(info) : [{ call: `nothing: '${options.cluster}' would create no cluster` }] };
  };

  return { 'cluster.create': create, 'cluster.waitReady': waitReady, 'cluster.terminate': terminate };
}
