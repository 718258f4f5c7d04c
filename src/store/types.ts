/** Row shapes and state names shared by the store and its callers. */

export type RunState = 'queued' | 'running' | 'success' | 'failed';

export type TaskState =
  | 'none'
  | 'scheduled'
  | 'queued'
  | 'running'
  | 'success'
  | 'failed'
  | 'up_for_retry'
  | 'upstream_failed'
  | 'skipped';

export const FINISHED_TASK_STATES: ReadonlySet<TaskState> = new Set(['success', 'failed', 'upstream_failed', 'skipped']);
export const FINISHED_RUN_STATES: ReadonlySet<RunState> = new Set(['success', 'failed']);

export type RunType = 'manual' | 'scheduled';
export type TriggerSource = 'cli' | 'scheduler' | 'ui' | 'api';

export interface DagRow {
  dagId: string;
  isPaused: boolean;
  fileloc: string | null;
  schedule: string | null;
  lastSeenAt: string | null;
}

export interface DagRunRow {
  dagId: string;
  runId: string;
  runType: RunType;
  triggeredBy: TriggerSource;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  conf: Record<string, unknown>;
  params: Record<string, unknown>;
  state: RunState;
  queuedAt: string;
  startDate: string | null;
  endDate: string | null;
  ownerId: string | null;
  ownerHost: string | null;
  ownerPid: number | null;
  /** The owner process's exact identity on its machine (see processIdentity); null where unknown. */
  ownerIdentity: string | null;
  leaseExpiresAt: string | null;
  cancelRequested: boolean;
  note: string | null;
}

export interface TaskInstanceRow {
  dagId: string;
  runId: string;
  taskId: string;
  state: TaskState;
  tryNumber: number;
  maxTries: number;
  pool: string;
  operator: string;
  queuedAt: string | null;
  startDate: string | null;
  endDate: string | null;
  nextRetryAt: string | null;
  hostname: string | null;
  pid: number | null;
  ownerId: string | null;
  leaseExpiresAt: string | null;
  error: string | null;
}

export interface TaskTryRow {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  state: TaskState;
  startDate: string;
  endDate: string | null;
  hostname: string | null;
  pid: number | null;
  error: string | null;
}

export interface TaskLogRow {
  id: number;
  tryNumber: number;
  ts: string;
  level: string;
  source: string;
  message: string;
}

export interface ExternalHandleRow {
  id: number;
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  kind: string;
  externalId: string;
  url: string | null;
  data: Record<string, unknown> | null;
  createdAt: string;
  releasedAt: string | null;
}

/** Identifies one task instance. */
export interface TiKey {
  dagId: string;
  runId: string;
  taskId: string;
}

/** Who owns a run or a task try: one orch process. */
export interface Owner {
  id: string;
  host: string;
  pid: number;
  /** Its exact identity on this machine, where the OS can tell (see src/util/process.ts). */
  identity?: string;
}
