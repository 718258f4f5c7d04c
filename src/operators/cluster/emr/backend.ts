/**
 * The emr backend: a cluster is an Amazon EMR cluster created for the run (RunJobFlow),
 * ready when EMR says WAITING or RUNNING *and* Livy answers on the master, and terminated
 * by cluster.terminate whatever happened. Its id is recorded the moment EMR returns it, and
 * its name and tags find it again after a crash, so a run never has two.
 */
import type { Cluster } from '@aws-sdk/client-emr';
import { OrchError, isDetached } from '../../../errors.ts';
import { EmrApi, EmrClusterEndedError, describeReason } from '../../../integrations/emr/index.ts';
import { LivyClient } from '../../../integrations/livy/index.ts';
import { durationMs, type ClusterCreateOptions, type Duration, type TaskContext } from '../../../sdk/index.ts';
import { renderTemplate } from '../../template.ts';
import { templateVars } from '../../livy/code.ts';
import { PROGRESS_SOURCE } from '../../../core/events.ts';
import type { PlanHints, PlanStep, TaskPlan } from '../../../core/operator.ts';
import type { ClusterBackend, ClusterInfo } from '../backend.ts';
import { noteOrchEngine } from '../livy-backend.ts';
import { clusterName, runJobFlowRequest, TAG_RUN, TAG_DAG, compact } from './request.ts';
import { billLines, createSteps, terminateSteps, waitReadySteps } from './plan.ts';
import { emrSettings, hasLivy, type EmrSettings } from './settings.ts';
import { ACTIVE_STATES, ENDED_STATES } from './states.ts';
import { sleep } from '../../../util/sleep.ts';


/** How long cluster.terminate waits to see TERMINATED; EMR usually takes a few minutes. */
const TERMINATE_WAIT_MS = 30 * 60_000;

/** `backends.emr` in orch.config.json: cluster settings plus how orch talks to EMR. */
export interface EmrBackendSettings extends Record<string, unknown> {
  /** Longest wait between two DescribeCluster calls (backoff starts lower); `30s` by default. */
  pollInterval?: Duration;
  /** Another EMR endpoint than the region's (a VPC endpoint, FIPS). */
  endpoint?: string;
}

export class EmrTerminationProtectedError extends OrchError {
  override readonly retryable = false;
  constructor(clusterId: string) {
    super(
      'ORCH_EMR_TERMINATION_PROTECTED',
      `EMR cluster ${clusterId} has termination protection on (it was set after orch created it), so orch cannot terminate it and it keeps costing money: ` +
        `run \`aws emr modify-cluster-attributes --cluster-id ${clusterId} --no-termination-protected\`, then \`aws emr terminate-clusters --cluster-ids ${clusterId}\``,
    );
  }
}

export class EmrNotReadyError extends OrchError {
  constructor(clusterId: string, state: string, seconds: number, what: string) {
    super('ORCH_EMR_NOT_READY', `EMR cluster ${clusterId} was not ready within ${seconds} s (${what}; last state ${state}); raise wait_for_cluster's timeout, or look at the cluster in the EMR console`);
  }
}

export class EmrBackend implements ClusterBackend {
  readonly name = 'emr';
  readonly dialects = ['spark', 'pyspark', 'sparksql'] as const;
  private readonly pollCeilingMs: number;

  /** `dbTag`: the orch:db tag of this process's database, put on every cluster it creates. */
  constructor(
    private readonly config: EmrBackendSettings = {},
    private readonly dbTag?: string,
  ) {
    this.pollCeilingMs = durationMs(config.pollInterval ?? '30s');
  }

  /** The checked settings for a task: the config file's under the DAG's, templates rendered. */
  settingsFor(ctx: TaskContext, options: ClusterCreateOptions): EmrSettings {
    const { pollInterval: _poll, endpoint: _endpoint, ...fromConfig } = this.config;
    const fromDag = options.emr ? renderStrings(options.emr, ctx, 'emr') : undefined;
    return emrSettings(renderStrings(fromConfig, ctx, 'backends.emr') as Record<string, unknown>, fromDag as ClusterCreateOptions['emr']);
  }

  check(ctx: TaskContext, options: ClusterCreateOptions): void {
    this.settingsFor(ctx, options);
  }

  async create(ctx: TaskContext, options: ClusterCreateOptions, replacing?: { onDemand?: boolean }): Promise<ClusterInfo> {
    const settings = replacing?.onDemand ? withoutSpot(this.settingsFor(ctx, options)) : this.settingsFor(ctx, options);
    if (!hasLivy(settings.applications)) ctx.log.warn(`the cluster's applications (${settings.applications.join(', ')}) do not include Livy: only EMR steps can run on it`);
    const api = this.api(settings.region);
    try {
      // One cluster per run: a retried create, or one resumed after a crash, takes the run's cluster if it is up.
      const existing = await this.findRunCluster(ctx, api, options, settings);
      if (existing) return existing;
      const request = compact(runJobFlowRequest(settings, { dagId: ctx.dagId, runId: ctx.runId, taskId: ctx.taskId, name: options.name, db: this.dbTag }));
      ctx.log.info(`creating EMR cluster ${request.Name} (${settings.releaseLabel}; ${settings.applications.join(', ')})`);
      const clusterId = await api.runJobFlow(request, ctx.signal);
      ctx.handles.record({ kind: 'cluster', externalId: clusterId, data: { backend: this.name, region: settings.region, name: request.Name } });
      const region = settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
      const consoleLink = region ? ` (console: https://${region}.console.aws.amazon.com/emr/home?region=${region}#/clusterDetails/${clusterId})` : '';
      ctx.log.info(`EMR cluster ${clusterId} created${consoleLink}; waiting for its master node's address`);
      try {
        return await this.infoOnceAddressed(ctx, api, clusterId, settings);
      } catch (err) {
        // Never leave a cluster nobody will use; a detached try leaves it for its resume.
        if (!isDetached(ctx.signal)) await this.terminateQuietly(ctx, api, clusterId);
        throw err;
      }
    } finally {
      api.close();
    }
  }

  async reattach(ctx: TaskContext, options: ClusterCreateOptions): Promise<ClusterInfo | undefined> {
    const settings = this.settingsFor(ctx, options);
    const api = this.api(settings.region);
    try {
      return await this.findRunCluster(ctx, api, options, settings);
    } finally {
      api.close();
    }
  }

  async waitReady(ctx: TaskContext, info: ClusterInfo, timeoutMs: number): Promise<void> {
    const api = this.api(info.region as string | undefined);
    const started = Date.now();
    const deadline = started + timeoutMs;
    let state = 'unknown';
    try {
      const cluster = await this.follow(ctx, api, info.clusterId, deadline, (c) => c.Status?.State === 'WAITING' || c.Status?.State === 'RUNNING', 'waiting for WAITING or RUNNING');
      state = cluster.Status?.State ?? state;
      if (!hasLivy((cluster.Applications ?? []).map((a) => a.Name ?? ''))) {
        throw new OrchError('ORCH_EMR_NO_LIVY', `EMR cluster ${info.clusterId} runs ${(cluster.Applications ?? []).map((a) => a.Name).join(', ') || 'no applications'}, without Livy: add "Livy" to the emr applications`);
      }
      // EMR's RUNNING comes before Livy listens: ready means Livy answers.
      const client = new LivyClient({ url: info.livyUrl, timeoutMs: 10_000, retry: { retries: 0 } });
      try {
        for (let delay = 500; ; delay = Math.min(delay * 2, this.pollCeilingMs)) {
          try {
            const v = await client.version(ctx.signal);
            ctx.log.info(`EMR cluster ${info.clusterId} is ready after ${elapsed(started)}: Livy ${v.version} answers at ${info.livyUrl}`);
            return;
          } catch (err) {
            if (ctx.signal.aborted) throw ctx.signal.reason;
            if (Date.now() > deadline) throw new EmrNotReadyError(info.clusterId, state, Math.round(timeoutMs / 1000), `Livy at ${info.livyUrl} did not answer: ${(err as Error).message}`);
          }
          await sleep(delay, ctx.signal);
          const again = await api.describeCluster(info.clusterId, ctx.signal);
          failIfEnded(again, 'while orch waited for Livy');
        }
      } finally {
        await client.close();
      }
    } finally {
      api.close();
    }
  }

  async terminate(ctx: TaskContext, info: ClusterInfo): Promise<void> {
    const api = this.api(info.region as string | undefined);
    try {
      const cluster = await api.describeCluster(info.clusterId, ctx.signal);
      const state = cluster.Status?.State ?? 'unknown';
      if (state === 'TERMINATED' || state === 'TERMINATED_WITH_ERRORS') {
        ctx.log.info(`EMR cluster ${info.clusterId} is already ${state} (${describeReason(cluster.Status?.StateChangeReason?.Code, cluster.Status?.StateChangeReason?.Message)})`);
        return;
      }
      if (cluster.TerminationProtected) throw new EmrTerminationProtectedError(info.clusterId);
      if (state !== 'TERMINATING') {
        await api.terminate([info.clusterId], ctx.signal);
        ctx.log.info(`asked EMR to terminate cluster ${info.clusterId} (it was ${state})`);
      }
      if (info.waitForTermination === false) return;
      const started = Date.now();
      const ended = await this.follow(ctx, api, info.clusterId, started + TERMINATE_WAIT_MS, (c) => c.Status?.State === 'TERMINATED' || c.Status?.State === 'TERMINATED_WITH_ERRORS', 'terminating', true);
      ctx.log.info(`EMR cluster ${info.clusterId} is ${ended.Status?.State} after ${elapsed(started)}`);
    } finally {
      api.close();
    }
  }

  async fate(info: ClusterInfo, signal: AbortSignal): Promise<string | undefined> {
    const api = this.api(info.region as string | undefined);
    try {
      const cluster = await api.describeCluster(info.clusterId, signal);
      const state = cluster.Status?.State ?? '';
      if (!ENDED_STATES.has(state)) return undefined;
      const reason = cluster.Status?.StateChangeReason;
      return `EMR says ${state}: ${describeReason(reason?.Code, reason?.Message)}`;
    } finally {
      api.close();
    }
  }

  planCreate(ctx: TaskContext, options: ClusterCreateOptions, hints: PlanHints): TaskPlan & { result: ClusterInfo } {
    const settings = this.settingsFor(ctx, options);
    const request = compact(runJobFlowRequest(settings, { dagId: ctx.dagId, runId: ctx.runId, taskId: ctx.taskId, name: options.name, db: this.dbTag }));
    const host = settings.livy.dns === 'private' ? '<master private DNS>' : '<master DNS>';
    return {
      steps: createSteps(request, this.pollCeilingMs),
      result: { backend: this.name, clusterId: '<cluster id>', livyUrl: `${settings.livy.scheme}://${host}:${settings.livy.port}`, waitForTermination: settings.waitForTermination },
      summary: [`EMR cluster ${request.Name} (${settings.releaseLabel}${settings.region ? `, ${settings.region}` : ''}):`, ...billLines(request, hints)],
    };
  }

  planWaitReady(info: ClusterInfo, timeoutMs: number): PlanStep[] {
    return waitReadySteps(info, timeoutMs, this.pollCeilingMs);
  }

  planTerminate(info: ClusterInfo): PlanStep[] {
    return terminateSteps(info, this.pollCeilingMs);
  }

  /** A client for this backend's EMR (region, endpoint); close it after use. */
  api(region: string | undefined): EmrApi {
    return new EmrApi({ region: region ?? (this.config.region as string | undefined), endpoint: this.config.endpoint });
  }

  livyOptions(info: ClusterInfo) {
    return { url: info.livyUrl };
  }

  /** The running cluster of this run: one a try recorded, or else one EMR has by the run's name and tags. */
  private async findRunCluster(ctx: TaskContext, api: EmrApi, options: ClusterCreateOptions, settings: EmrSettings): Promise<ClusterInfo | undefined> {
    const name = clusterName({ dagId: ctx.dagId, runId: ctx.runId, taskId: ctx.taskId, name: options.name });
    const recorded = ctx.handles.list('cluster').map((h) => h.externalId);
    let candidates = recorded;
    if (!candidates.length) {
      const listed = await api.listClusters([...ACTIVE_STATES], undefined, ctx.signal);
      candidates = listed.filter((c) => c.Name === name && c.Id).map((c) => c.Id!);
    }
    for (const id of candidates) {
      const cluster = await api.describeCluster(id, ctx.signal);
      const tags = new Map((cluster.Tags ?? []).map((t) => [t.Key, t.Value]));
      const state = cluster.Status?.State ?? '';
      if (ENDED_STATES.has(state)) continue;
      if (!recorded.includes(id) && (tags.get(TAG_DAG) !== ctx.dagId || tags.get(TAG_RUN) !== ctx.runId)) continue;
      ctx.log.info(`found this run's EMR cluster ${id} (${state}) from an earlier try; using it instead of creating another`);
      if (!recorded.includes(id)) ctx.handles.record({ kind: 'cluster', externalId: id, data: { backend: this.name, region: settings.region, name } });
      return this.infoOnceAddressed(ctx, api, id, settings);
    }
    return undefined;
  }

  /** Wait until EMR names the master's address; the ClusterInfo that points at its Livy. */
  private async infoOnceAddressed(ctx: TaskContext, api: EmrApi, clusterId: string, settings: EmrSettings): Promise<ClusterInfo> {
    // MasterPublicDnsName is the private name already when the cluster is in a private subnet.
    const cluster = await this.follow(ctx, api, clusterId, Infinity, (c) => Boolean(c.MasterPublicDnsName), 'waiting for the master node');
    const host = settings.livy.dns === 'private' ? await api.masterPrivateDns(clusterId, Boolean(settings.instanceFleets), ctx.signal) : cluster.MasterPublicDnsName!;
    const info: ClusterInfo = {
      backend: this.name,
      clusterId,
      livyUrl: `${settings.livy.scheme}://${host}:${settings.livy.port}`,
      region: settings.region,
      name: cluster.Name,
      masterDns: host,
      waitForTermination: settings.waitForTermination,
      logUri: settings.logUri,
    };
    ctx.handles.record({ kind: 'cluster', externalId: clusterId, url: info.livyUrl, data: { backend: this.name, region: settings.region, name: cluster.Name } });
    await noteOrchEngine(ctx, info, this.livyOptions(info), 2_000, 'wait_for_cluster waits for it');
    return info;
  }

  /**
   * DescribeCluster with backoff until `done`, logging each state change with the time so
   * far; an ended cluster fails at once with EMR's reason (unless `endedIsDone`).
   */
  private async follow(ctx: TaskContext, api: EmrApi, clusterId: string, deadline: number, done: (c: Cluster) => boolean, what: string, endedIsDone = false): Promise<Cluster> {
    const started = Date.now();
    let last = '';
    for (let delay = Math.min(2_000, this.pollCeilingMs); ; delay = Math.min(delay * 2, this.pollCeilingMs)) {
      const cluster = await api.describeCluster(clusterId, ctx.signal);
      const state = cluster.Status?.State ?? 'unknown';
      if (state !== last) {
        const reason = cluster.Status?.StateChangeReason?.Message;
        // Also a progress line: `orch run` shows it beside the task.
        ctx.log.external(PROGRESS_SOURCE, `EMR cluster ${clusterId}: ${state} (${elapsed(started)}, ${what})${reason ? `: ${reason}` : ''}`);
        last = state;
      }
      if (done(cluster)) return cluster;
      if (!endedIsDone) failIfEnded(cluster, `while orch was ${what}`);
      if (Date.now() + delay > deadline) throw new EmrNotReadyError(clusterId, state, Math.round((deadline - started) / 1000), what);
      await sleep(delay, ctx.signal);
    }
  }

  private async terminateQuietly(ctx: TaskContext, api: EmrApi, clusterId: string): Promise<void> {
    try {
      await api.terminate([clusterId]);
      ctx.handles.release('cluster', clusterId);
      ctx.log.info(`terminated EMR cluster ${clusterId}, which this failed create had started`);
    } catch (err) {
      ctx.log.error(`could not terminate EMR cluster ${clusterId} after the failed create (${(err as Error).message}); the reaper (orch emr reap) and its idle timeout remain`);
    }
  }
}

/** The same cluster with every spot group and spot fleet capacity on-demand instead. */
function withoutSpot(s: EmrSettings): EmrSettings {
  const group = <G extends { market?: string; bidPrice?: string }>(g: G): G => ({ ...g, market: 'ON_DEMAND', bidPrice: undefined });
  const fleet = <F extends { onDemandCapacity?: number; spotCapacity?: number }>(f: F): F =>
    f.spotCapacity ? { ...f, onDemandCapacity: (f.onDemandCapacity ?? 0) + f.spotCapacity, spotCapacity: 0 } : f;
  return {
    ...s,
    instanceGroups: s.instanceGroups && { master: group(s.instanceGroups.master), core: s.instanceGroups.core && group(s.instanceGroups.core), task: s.instanceGroups.task?.map(group) },
    instanceFleets: s.instanceFleets && { ...s.instanceFleets, master: fleet(s.instanceFleets.master), core: s.instanceFleets.core && fleet(s.instanceFleets.core), task: s.instanceFleets.task && fleet(s.instanceFleets.task) },
  };
}

function failIfEnded(cluster: Cluster, while_: string): void {
  const state = cluster.Status?.State ?? '';
  if (ENDED_STATES.has(state)) {
    const reason = cluster.Status?.StateChangeReason;
    throw new EmrClusterEndedError(cluster.Id ?? '?', state, reason?.Code, reason?.Message, while_);
  }
}

/** Every string in `value` rendered with the task's template variables. */
function renderStrings(value: unknown, ctx: TaskContext, path: string): unknown {
  if (typeof value === 'string') return value.includes('{{') ? renderTemplate(value, templateVars(ctx, value), `task '${ctx.taskId}' option '${path}'`) : value;
  if (Array.isArray(value)) return value.map((v, i) => renderStrings(v, ctx, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderStrings(v, ctx, `${path}.${k}`)]));
  return value;
}

const elapsed = (since: number) => {
  const s = Math.round((Date.now() - since) / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
};
