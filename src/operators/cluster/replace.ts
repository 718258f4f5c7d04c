/**
 * onClusterLost 'recreate': when a Livy task finds its cluster gone (spot capacity
 * reclaimed, an engine that died), the first task to notice creates a replacement like the
 * lost one — on-demand if spot capacity was what went — waits until it is ready, and records
 * it in the run; every task of the run then uses it, and terminate_cluster removes it too.
 * One replacement per lost cluster, at most MAX_REPLACEMENTS per run.
 */
import type { TaskContext } from '../../sdk/index.ts';
import type { ClusterCreateOptions } from '../../sdk/index.ts';
import type { ClusterInfo } from './backend.ts';
import type { Backends } from './backends.ts';
import { ClusterGoneError, replacementsOf } from './operators.ts';

export const MAX_REPLACEMENTS = 2;
/** How long a replacement may take to be ready (an EMR cluster takes minutes). */
const READY_TIMEOUT_MS = 45 * 60_000;

/** Replacements being made in this process, by run and lost cluster: tasks that notice together share one. */
const inFlight = new Map<string, Promise<ClusterInfo>>();

/** A lost cluster's reason that says spot capacity went: the replacement is then on-demand. */
const SPOT_LOSS = /spot|market price|capacity/i;

/**
 * The cluster to rerun on after `err`, or undefined when the task should fail with it: not
 * a lost cluster, no 'recreate' policy, or the run has used up its replacements.
 */
export async function replacementFor(ctx: TaskContext, backends: Backends, createTask: string, lost: ClusterInfo, err: unknown): Promise<ClusterInfo | undefined> {
  if (!(err instanceof ClusterGoneError)) return undefined;
  const policy = lost.recreate as { options: ClusterCreateOptions } | undefined;
  if (!policy) return undefined;
  const made = replacementsOf(ctx, createTask);
  const already = made.find((r) => r.info.replaces === lost.clusterId);
  if (already) return already.info;
  if (made.length >= MAX_REPLACEMENTS) {
    ctx.log.warn(`cluster ${lost.clusterId} is gone (${err.fate}); this run has replaced its cluster ${made.length} times already, so the task fails`);
    return undefined;
  }
  const key = `${ctx.dagId}\u0000${ctx.runId}\u0000${lost.clusterId}`;
  let making = inFlight.get(key);
  if (!making) {
    making = make(ctx, backends, createTask, lost, policy.options, err.fate).finally(() => inFlight.delete(key));
    inFlight.set(key, making);
  } else {
    ctx.log.info(`cluster ${lost.clusterId} is gone; another task of this run is creating its replacement`);
  }
  return making;
}

async function make(ctx: TaskContext, backends: Backends, createTask: string, lost: ClusterInfo, options: ClusterCreateOptions, fate: string): Promise<ClusterInfo> {
  const onDemand = SPOT_LOSS.test(fate);
  ctx.log.warn(`cluster ${lost.clusterId} is gone (${fate}); onClusterLost is 'recreate': creating a replacement${onDemand ? ', on-demand since spot capacity was lost' : ''}`);
  const backend = backends.of(lost);
  const info = await backend.create(ctx, options, { onDemand });
  await backend.waitReady(ctx, info, READY_TIMEOUT_MS);
  const replacement: ClusterInfo = { ...info, recreate: lost.recreate, replaces: lost.clusterId };
  // On record before any task uses it: terminate_cluster and the reaper find it there.
  ctx.handles.record({ kind: 'cluster', externalId: info.clusterId, url: info.livyUrl, data: { ...info, createTask, replaces: lost.clusterId, info: replacement } });
  ctx.log.info(`replacement cluster ${info.clusterId} is ready; rerunning the work on it`);
  return replacement;
}
