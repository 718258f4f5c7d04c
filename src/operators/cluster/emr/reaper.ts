/**
 * The EMR reaper: clusters orch created (its `orch-` name and `orch:dag` / `orch:run` tags)
 * that are still up though their run is over — finished in this database, or unknown to it
 * — are terminated once a grace period has passed. `orch emr reap` runs it by hand (with
 * `--dry-run` to only look); the scheduler runs it on its housekeeping rounds.
 */
import type { Cluster } from '@aws-sdk/client-emr';
import { EmrApi } from '../../../integrations/emr/index.ts';
import type { Store } from '../../../store/index.ts';
import { TAG_DAG, TAG_DB, TAG_RUN } from './request.ts';
import { ACTIVE_STATES } from './states.ts';

export interface ReapDecision {
  clusterId: string;
  name: string;
  state: string;
  dagId?: string;
  runId?: string;
  action: 'terminated' | 'would terminate' | 'kept' | 'failed';
  reason: string;
}

export interface EmrReapOptions {
  region?: string;
  endpoint?: string;
  /** Only list what would be done. */
  dryRun?: boolean;
  /** This database's orch:db tag: clusters tagged by another database are left to it. */
  dbTag?: string;
  /** How long after its run ended (or, for a run this database does not know, after it was created) a cluster is left alone. */
  graceMs?: number;
  now?: Date;
}

export const DEFAULT_GRACE_MS = 10 * 60_000;

/** Look at every running orch cluster and terminate those whose run is over; one decision per cluster found. */
export async function reapEmrClusters(store: Store, options: EmrReapOptions = {}): Promise<ReapDecision[]> {
  const api = new EmrApi({ region: options.region, endpoint: options.endpoint });
  const now = options.now ?? new Date();
  const grace = options.graceMs ?? DEFAULT_GRACE_MS;
  const decisions: ReapDecision[] = [];
  try {
    const listed = (await api.listClusters([...ACTIVE_STATES])).filter((c) => c.Id && c.Name?.startsWith('orch-'));
    for (const summary of listed) {
      const cluster = await api.describeCluster(summary.Id!);
      const decision = decide(store, cluster, now, grace, options.dbTag);
      if (!decision) continue;
      if (decision.action === 'would terminate' && !options.dryRun) await terminate(api, store, cluster, decision, now);
      decisions.push(decision);
    }
  } finally {
    api.close();
  }
  return decisions;
}

/**
 * The scheduler's round: only clusters this database recorded for runs that have finished
 * (no AWS call at all when there are none). An ended cluster just has its handle released.
 */
export async function reapEmrOfFinishedRuns(
  store: Store,
  options: EmrReapOptions = {},
  handles = store.handles.openOfFinishedRuns('cluster').filter((h) => h.data?.backend === 'emr'),
): Promise<ReapDecision[]> {
  if (!handles.length) return [];
  const now = options.now ?? new Date();
  const decisions: ReapDecision[] = [];
  const api = new EmrApi({ region: (handles[0]!.data?.region as string | undefined) ?? options.region, endpoint: options.endpoint });
  try {
    for (const h of handles) {
      const cluster = await api.describeCluster(h.externalId);
      const state = cluster.Status?.State ?? '?';
      if (!(ACTIVE_STATES as readonly string[]).includes(state)) {
        store.handles.releaseById(h.id, now.toISOString());
        continue;
      }
      const decision = decide(store, cluster, now, options.graceMs ?? DEFAULT_GRACE_MS, options.dbTag) ?? {
        clusterId: h.externalId, name: cluster.Name ?? '', state, dagId: h.dagId, runId: h.runId, action: 'would terminate' as const, reason: 'its run has finished',
      };
      if (decision.action === 'would terminate' && !options.dryRun) await terminate(api, store, cluster, decision, now);
      decisions.push(decision);
    }
  } finally {
    api.close();
  }
  return decisions;
}

/** What to do with one cluster; undefined for a cluster without orch's tags (not orch's to touch). */
function decide(store: Store, cluster: Cluster, now: Date, grace: number, dbTag: string | undefined): ReapDecision | undefined {
  const tags = new Map((cluster.Tags ?? []).map((t) => [t.Key, t.Value]));
  const dagId = tags.get(TAG_DAG);
  const runId = tags.get(TAG_RUN);
  if (!dagId || !runId) return undefined;
  const base = { clusterId: cluster.Id!, name: cluster.Name ?? '', state: cluster.Status?.State ?? '?', dagId, runId };
  const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;
  const madeBy = tags.get(TAG_DB);
  if (madeBy && dbTag && madeBy !== dbTag) return { ...base, action: 'kept', reason: `another orch database made it (orch:db ${madeBy}; this one is ${dbTag}): its own reaper looks after it` };
  const run = store.runs.get(dagId, runId);
  if (!run) {
    const created = cluster.Status?.Timeline?.CreationDateTime;
    const age = created ? now.getTime() - new Date(created).getTime() : Infinity;
    if (age < grace) return { ...base, action: 'kept', reason: `its run is unknown to this database, but it was created only ${minutes(age)} ago (grace ${minutes(grace)}): another orch may be starting it` };
    return { ...base, action: 'would terminate', reason: `its run is unknown to this database (created ${created ? `${minutes(age)} ago` : 'at an unknown time'})` };
  }
  if (run.state === 'queued' || run.state === 'running') return { ...base, action: 'kept', reason: `its run is ${run.state}` };
  const ended = run.endDate ? now.getTime() - Date.parse(run.endDate) : Infinity;
  if (ended < grace) return { ...base, action: 'kept', reason: `its run ended (${run.state}) ${minutes(ended)} ago; terminate_cluster may still be at work (grace ${minutes(grace)})` };
  return { ...base, action: 'would terminate', reason: `its run ended (${run.state}) ${run.endDate ? `${minutes(ended)} ago` : ''}`.trimEnd() };
}

/** Terminate a cluster the reaper decided on, and record the outcome in `decision`. */
async function terminate(api: EmrApi, store: Store, cluster: Cluster, decision: ReapDecision, now: Date): Promise<void> {
  if (cluster.TerminationProtected) {
    decision.action = 'failed';
    decision.reason += `; but termination protection is on: aws emr modify-cluster-attributes --cluster-id ${decision.clusterId} --no-termination-protected`;
    return;
  }
  try {
    await api.terminate([decision.clusterId]);
    decision.action = 'terminated';
    releaseHandles(store, decision, now);
  } catch (err) {
    decision.action = 'failed';
    decision.reason += `; TerminateJobFlows failed: ${(err as Error).message}`;
  }
}

function releaseHandles(store: Store, d: ReapDecision, now: Date): void {
  if (!d.dagId || !d.runId) return;
  for (const h of store.handles.listForRun(d.dagId, d.runId)) {
    if (h.kind === 'cluster' && h.externalId === d.clusterId && !h.releasedAt) store.handles.releaseById(h.id, now.toISOString());
  }
}

/** The decisions as the CLI prints them, one line each. */
export function formatDecisions(decisions: ReapDecision[]): string {
  if (!decisions.length) return 'no running EMR clusters created by orch\n';
  return decisions.map((d) => `${d.clusterId}  ${d.state.padEnd(13)} ${d.action.padEnd(15)} ${d.dagId}/${d.runId}: ${d.reason}`).join('\n') + '\n';
}
