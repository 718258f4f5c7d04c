/**
 * Built-in operators as data: each function returns an OperatorSpec naming the
 * implementation (in src/operators) and its options. Nothing here talks to a cluster.
 */
import { memoryLimitProblem } from './memory-limit.ts';
import { durationMs } from './duration.ts';
import type { EmrClusterOptions, EmrStep } from './emr.ts';
import type { Duration, OperatorSpec, TaskArgs, TaskRef } from './types.ts';

/** The code dialects a statement task may carry; the backend runs the first it supports. */
export type Dialect = 'spark' | 'pyspark' | 'sparksql' | 'duckdb';
export const DIALECTS: readonly Dialect[] = ['spark', 'pyspark', 'sparksql', 'duckdb'];

/** Code read from a file, relative to the DAG file unless absolute. */
export interface CodeFile {
  readonly $file: string;
}

/** Inline code, or a file to read it from. Both may use `{{ … }}` placeholders. */
export type CodeSource = string | CodeFile;

/** Point a statement variant at a file (relative to the DAG file). */
export function codeFile(path: string): CodeFile {
  return { $file: path };
}

/** spark-submit resources Livy passes on, as its sessions and batches name them. */
export interface SparkResources {
  driverMemory?: string;
  driverCores?: number;
  executorMemory?: string;
  executorCores?: number;
  numExecutors?: number;
  conf?: Record<string, string>;
  jars?: string[];
  pyFiles?: string[];
  files?: string[];
  archives?: string[];
  queue?: string;
  proxyUser?: string;
}

export interface SessionOptions extends SparkResources {
  /** Livy session name; orch adds run, task and try to keep it unique. */
  name?: string;
  heartbeatTimeoutInSecond?: number;
}

export interface ClusterCreateOptions {
  /** A name for the cluster; orch adds the run id so it is unique. */
  name?: string;
  /** Settings for the embedded backend (a local `orch engine`). */
  embedded?: {
    /** DuckDB memory limit: a size (`2GB`) or a share of the machine (`25%`); half the machine by default. */
    memoryLimit?: string;
    maxSessions?: number;
    /**
     * The engine stops by itself after this long with no open session, no running batch and no
     * request (like EMR's auto-termination), so one left behind by a run that is never resumed
     * does not run forever. `1h` by default; `0` never.
     */
    idleTimeout?: Duration;
  };
  /** The EMR cluster (RunJobFlow), over `backends.emr` in orch.config.json; strings may use `{{ params.x }}`. */
  emr?: EmrClusterOptions;
  /**
   * When the cluster is lost under running work (spot capacity reclaimed, an engine that
   * died): 'fail' (default) fails the tasks that need it with the reason; 'recreate' creates
   * a replacement — on-demand if spot capacity was lost — and reruns the unfinished Livy work
   * on it, at most twice per run. terminate_cluster removes the replacements too.
   */
  onClusterLost?: 'fail' | 'recreate';
}

export interface StatementOptions {
  /** The task that created the cluster (its XCom says where Livy is). */
  cluster: TaskRef | string;
  /**
   * Code per dialect; the first the backend can run is used (spark, pyspark, sparksql,
   * duckdb). A list is sent as one statement, in order (shared helpers first).
   */
  code: Partial<Record<Dialect, CodeSource | CodeSource[]>>;
  session?: SessionOptions;
  /**
   * The dataset directory the code produces (placeholders allowed). The code writes to
   * `{{ staging_dir }}`; only a successful statement replaces `{{ output_dir }}`, so a failed
   * or cancelled one never leaves a half-written dataset where a good one stood. On the
   * embedded backend orch does the swap; Spark code does it itself (see scala-statements/).
   */
  output?: string;
  /**
   * Files or folders the code reads (placeholders allowed, e.g. `'{{ params.source }}/movies.csv'`;
   * globs check their folder). Where the cluster reads this machine's files (the embedded
   * backend), a missing one fails the run before the cluster is created, naming the path and
   * the param; URLs such as s3:// are left to clusters that can read them.
   */
  inputs?: string[];
}

export interface BatchOptions extends SparkResources {
  cluster: TaskRef | string;
  /** The application: a jar or .py on the cluster (a .sql file on the embedded engine). */
  file: string;
  className?: string;
  args?: string[];
  /** Batch name prefix; orch adds DAG, run, task and try (`<name>-<dag>-<run>-<task>-<try>`) so a restarted orch finds each try's batch. */
  name?: string;
}

export interface EmrAddStepsOptions {
  /** The task that created the EMR cluster. */
  cluster: TaskRef | string;
  /** Strings may use `{{ params.x }}` and the other template variables. */
  steps: EmrStep[];
}

export interface EmrStepSensorOptions {
  cluster: TaskRef | string;
  /** The emr.addSteps task whose steps to wait for. */
  steps: TaskRef | string;
  /** Between two DescribeStep calls; `30s` by default. */
  pollInterval?: Duration;
}

const ref = (t: TaskRef | string) => (typeof t === 'string' ? t : t.id);

/** Fail when the DAG file is loaded, naming the operator and field, rather than when the task runs. */
function checkDuration(operator: string, field: string, value: Duration | undefined): void {
  if (value === undefined) return;
  try {
    durationMs(value);
  } catch (error) {
    throw new RangeError(`${operator}: ${field}: ${(error as Error).message}`);
  }
}
const spec = (type: string, options: Record<string, unknown>, defaults?: TaskArgs): OperatorSpec => ({ type, options, defaults });

/** Cluster lifecycle: create, wait until ready, terminate. The backend is chosen at run time, never in the DAG. */
export const cluster = {
  /** Create a cluster (embedded engine, an existing Livy, or EMR); its XCom is where Livy is. */
  create: (options: ClusterCreateOptions = {}): OperatorSpec => {
    checkDuration('cluster.create', 'embedded.idleTimeout', options.embedded?.idleTimeout);
    const memory = options.embedded?.memoryLimit;
    const problem = memory === undefined ? undefined : memoryLimitProblem(memory);
    if (problem) throw new RangeError(`cluster.create: embedded.memoryLimit: ${problem}`);
    if (options.onClusterLost !== undefined && !['fail', 'recreate'].includes(options.onClusterLost)) {
      throw new RangeError(`cluster.create: onClusterLost: '${options.onClusterLost}' is not 'fail' or 'recreate'`);
    }
    return spec('cluster.create', { ...options });
  },
  /** Wait until the cluster created by `cluster` answers. */
  waitReady: (options: { cluster: TaskRef | string; timeout?: string }): OperatorSpec =>
    spec('cluster.waitReady', { ...options, cluster: ref(options.cluster) }),
  /** Terminate the cluster; idempotent, and runs under `all_done` unless told otherwise. */
  terminate: (options: { cluster: TaskRef | string }): OperatorSpec =>
    spec('cluster.terminate', { cluster: ref(options.cluster) }, { triggerRule: 'all_done' }),
};

/** Work submitted through Livy. */
export const livy = {
  /** Run code in a Livy session: open it, run the statement, stream its log, always delete it. */
  statement: (options: StatementOptions): OperatorSpec => spec('livy.statement', { ...options, cluster: ref(options.cluster) }),
  /** spark-submit through Livy's /batches, as Airflow's LivyOperator. */
  batch: (options: BatchOptions): OperatorSpec => spec('livy.batch', { ...options, cluster: ref(options.cluster) }),
};

/** EMR steps, the other way to run Spark on EMR (`aws emr add-steps`); these need the emr backend. */
export const emr = {
  /** Add steps to the cluster; the XCom is their ids. Pair it with emr.stepSensor. */
  addSteps: (options: EmrAddStepsOptions): OperatorSpec => {
    if (!options.steps?.length) throw new RangeError('emr.addSteps: steps: give at least one step');
    for (const [i, step] of options.steps.entries()) {
      if (!step.name) throw new RangeError(`emr.addSteps: steps[${i}]: give it a name`);
      if (Boolean(step.sparkSubmit) === Boolean(step.jar)) throw new RangeError(`emr.addSteps: steps[${i}] ('${step.name}'): give exactly one of sparkSubmit or jar`);
    }
    return spec('emr.addSteps', { ...options, cluster: ref(options.cluster) });
  },
  /** Wait until the steps of an emr.addSteps task complete; a failed, cancelled or interrupted step fails it with EMR's details. Cancelling it cancels the steps. */
  stepSensor: (options: EmrStepSensorOptions): OperatorSpec => {
    checkDuration('emr.stepSensor', 'pollInterval', options.pollInterval);
    return spec('emr.stepSensor', { ...options, cluster: ref(options.cluster), steps: ref(options.steps) });
  },
};
