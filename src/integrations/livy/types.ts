/**
 * The Livy wire format as the client sees it (see docs/livy-api.md). Fields a server
 * may omit (older Livy, the engine) are optional; nothing here is engine-specific.
 */

/** Livy's session states, including the two its docs omit (`recovering`, `running`). */
export type SessionState =
  | 'not_started' | 'starting' | 'recovering' | 'idle' | 'running' | 'busy'
  | 'shutting_down' | 'error' | 'dead' | 'killed' | 'success';

/** States after which a session will never take statements again. */
export const FINAL_SESSION_STATES: ReadonlySet<string> = new Set(['shutting_down', 'error', 'dead', 'killed', 'success']);

/** Livy: there is no `error` statement state — failed code ends `available` with an error output. */
export type StatementState = 'waiting' | 'running' | 'available' | 'cancelling' | 'cancelled';

export type BatchState = 'not_started' | 'starting' | 'recovering' | 'running' | 'success' | 'dead' | 'killed' | 'error' | 'shutting_down';

/** Livy's kinds; `scala`/`python`/`r` are accepted aliases. */
export type SessionKind = 'spark' | 'scala' | 'pyspark' | 'python' | 'sparkr' | 'r' | 'sql' | 'shared';

/** Fields shared by session and batch creation (spark-submit options). */
export interface SparkResources {
  proxyUser?: string;
  jars?: string[];
  pyFiles?: string[];
  files?: string[];
  archives?: string[];
  driverMemory?: string;
  driverCores?: number;
  executorMemory?: string;
  executorCores?: number;
  numExecutors?: number;
  queue?: string;
  /** Unique on the server; orch uses `orch-<dag>-<run>-<task>-<try>` to find it again. */
  name?: string;
  conf?: Record<string, string>;
}

/** `POST /sessions` body. */
export interface CreateSessionRequest extends SparkResources {
  kind?: SessionKind;
  heartbeatTimeoutInSecond?: number;
  /** Livy 0.8+. */
  ttl?: string;
  /** Livy 0.9+. */
  idleTimeout?: string;
}

/** `POST /batches` body. */
export interface CreateBatchRequest extends SparkResources {
  file: string;
  className?: string;
  args?: string[];
}

export interface AppInfo {
  driverLogUrl?: string | null;
  sparkUiUrl?: string | null;
  [key: string]: string | null | undefined;
}

export interface Session {
  id: number;
  name?: string | null;
  appId?: string | null;
  owner?: string | null;
  proxyUser?: string | null;
  state: SessionState;
  kind?: string;
  appInfo?: AppInfo;
  /** The last 10 log lines. */
  log?: string[];
  [field: string]: unknown;
}

export interface Batch {
  id: number;
  name?: string | null;
  owner?: string | null;
  proxyUser?: string | null;
  state: BatchState;
  appId?: string | null;
  appInfo?: AppInfo;
  log?: string[];
}

export interface StatementOkOutput {
  status: 'ok';
  execution_count: number;
  data: Record<string, unknown> & {
    'text/plain'?: string;
    /** `sql` kind: `{schema: {type: 'struct', fields}, data: rows}` with at most 1000 rows. */
    'application/json'?: unknown;
  };
}

export interface StatementErrorOutput {
  status: 'error';
  execution_count: number;
  ename: string;
  evalue: string;
  traceback: string[];
}

export type StatementOutput = StatementOkOutput | StatementErrorOutput;

export interface Statement {
  id: number;
  code: string;
  state: StatementState;
  /** Livy: may still be null for a moment after `available`. */
  output: StatementOutput | null;
  /** 0..1; 1.0 when done. */
  progress?: number;
  /** Epoch ms, 0 when unset (Livy 0.6+). */
  started?: number;
  completed?: number;
}

/** `{from, total, sessions}` — the key is `sessions` for batches too. */
export interface Page<T> {
  from: number;
  total: number;
  sessions: T[];
}

export interface StatementList {
  total_statements: number;
  statements: Statement[];
}

/** `GET …/log`: Livy sends `total`, not `size` as its docs say. */
export interface LogResponse {
  id: number;
  from: number;
  total: number;
  log: string[];
}

export interface LivyVersion {
  version: string;
  user?: string;
  revision?: string;
  branch?: string;
  date?: string;
  url?: string;
}
