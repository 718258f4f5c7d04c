/**
 * What a cluster backend does for the cluster.* and livy.* operators. The DAG never names
 * the backend: it comes from `--backend`, ORCH_BACKEND or orch.config.json, and is recorded
 * in the cluster's XCom so every later task of the run uses the same one.
 */
import type { PlanHints, PlanStep, TaskPlan } from '../../core/operator.ts';
import type { LivyClientOptions } from '../../integrations/livy/index.ts';
import type { ClusterCreateOptions, Dialect, TaskContext } from '../../sdk/index.ts';

/** The XCom of a cluster.create task: where its Livy is. Secrets never go here. */
export interface ClusterInfo {
  backend: string;
  clusterId: string;
  livyUrl: string;
  /** Dialects its Livy runs, when they differ from the backend's (an orch engine behind the livy backend). */
  dialects?: Dialect[];
  /** The cluster reads and writes this machine's files (an orch engine here): orch swaps outputs into place. */
  localFiles?: boolean;
  [detail: string]: unknown;
}

export interface ClusterBackend {
  readonly name: string;
  /** The code dialects its Livy runs, in order of preference. */
  readonly dialects: readonly Dialect[];
  /** `replacing.onDemand`: a replacement for a cluster whose spot capacity was lost, to be made without spot. */
  create(ctx: TaskContext, options: ClusterCreateOptions, replacing?: { onDemand?: boolean }): Promise<ClusterInfo>;
  /** After a crash during create: the cluster the dead try started, if it is still there. */
  reattach(ctx: TaskContext, options: ClusterCreateOptions): Promise<ClusterInfo | undefined>;
  waitReady(ctx: TaskContext, info: ClusterInfo, timeoutMs: number): Promise<void>;
  /** Idempotent: terminating a cluster that is gone succeeds. */
  terminate(ctx: TaskContext, info: ClusterInfo): Promise<void>;
  /** How to reach the cluster's Livy: URL plus configured headers and auth. */
  livyOptions(info: ClusterInfo): LivyClientOptions;
  /**
   * What became of a cluster that may be gone (terminated, capacity lost), in words with the
   * cloud's own reason; undefined while it runs. Backends that cannot tell leave it out.
   */
  fate?(info: ClusterInfo, signal: AbortSignal): Promise<string | undefined>;
  /** Before the run starts: throw when the settings for this cluster cannot work (nothing is contacted). */
  check?(ctx: TaskContext, options: ClusterCreateOptions): void;
  /** For `orch run --dry-run`: the calls each lifecycle step would make, sending none. */
  planCreate(ctx: TaskContext, options: ClusterCreateOptions, hints: PlanHints): TaskPlan & { result: ClusterInfo };
  planWaitReady(info: ClusterInfo, timeoutMs: number): PlanStep[];
  planTerminate(info: ClusterInfo): PlanStep[];
}

/** Kinds of session each dialect runs in. */
export const SESSION_KIND: Record<Dialect, string> = { spark: 'spark', pyspark: 'pyspark', sparksql: 'sql', duckdb: 'sql' };
