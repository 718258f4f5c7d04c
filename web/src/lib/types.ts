// Shapes of docs/http-api.md (the contract); only what the UI reads.

export type State =
  | 'queued' | 'scheduled' | 'running' | 'success' | 'failed' | 'up_for_retry'
  | 'upstream_failed' | 'skipped' | 'removed' | 'restarting' | 'deferred' | 'none' | string;

export interface RunSummary { runId: string; state: State; startDate: string | null; endDate: string | null; runType?: string }

export interface DagSummary {
  dagId: string; description: string | null; tags: string[]; file: string;
  schedule: string | null; nextRunAt: string | null; isPaused: boolean;
  taskCount: number; hasParams: boolean; recentRuns: RunSummary[];
}
export interface DagLoadError { file: string; code: string; message: string }
export interface DagList { dags: DagSummary[]; errors: DagLoadError[]; historical: string[] }

export interface JsonSchema {
  type?: string | string[]; properties?: Record<string, JsonSchema>; required?: string[];
  default?: unknown; description?: string; enum?: unknown[]; const?: unknown;
  minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number;
  minLength?: number; maxLength?: number; pattern?: string; format?: string;
  anyOf?: JsonSchema[]; title?: string;
}

export interface TaskDef {
  taskId: string; operator: string; upstream: string[]; downstream: string[];
  triggerRule: string; pool: string; retries: number; doc: string | null;
}
export interface DagDetail extends Omit<DagSummary, 'taskCount' | 'hasParams' | 'recentRuns'> {
  maxActiveTasks: number; maxActiveRuns: number; paramsSchema: JsonSchema | null; tasks: TaskDef[];
}

export interface Run {
  dagId: string; runId: string; runType: string; triggeredBy: string; logicalDate: string | null;
  conf: Record<string, unknown>; params: Record<string, unknown>; state: State;
  queuedAt: string | null; startDate: string | null; endDate: string | null; note: string | null;
  cancelRequested: boolean; owner: { host: string; pid: number } | null;
}

export interface TaskInstance {
  taskId: string; state: State; tryNumber: number; maxTries: number; pool: string; operator: string;
  queuedAt: string | null; startDate: string | null; endDate: string | null; nextRetryAt: string | null;
  hostname: string | null; pid: number | null; error: string | null; markedByHand: boolean;
  progress: number | null;
}
export interface Try {
  taskId: string; tryNumber: number; state: State; startDate: string | null; endDate: string | null;
  hostname: string | null; pid: number | null; error: string | null;
}
export interface Cluster {
  backend: string; clusterId: string | null; url: string | null; taskId: string;
  createdAt: string | null; releasedAt: string | null;
}
export interface RunDetail extends Run { tasks: TaskInstance[]; tries: Try[]; cluster: Cluster | null }

export interface Handle {
  kind: string; externalId: string; url: string | null; tryNumber: number;
  createdAt: string | null; releasedAt: string | null; data: Record<string, unknown> | null;
}
export interface TaskDetail extends TaskInstance { tries: Try[]; handles: Handle[]; xcom: { key: string; value: unknown }[] }

export interface GridCell { state: State; tryNumber: number; startDate: string | null; endDate: string | null }
export interface Grid { tasks: string[]; runs: RunSummary[]; cells: Record<string, Record<string, GridCell>> }

export interface LogLine { id: number; ts: string; level: string; source: string; message: string }
export interface LogPage { lines: LogLine[]; cursor: number; more: boolean; final: boolean }

export interface SourceFile { path: string; language: string; text: string; tasks?: string[] }
export interface DagSource { file: SourceFile; statementFiles: SourceFile[] }

export interface Health { status: string; version: string; authRequired: boolean; schedulerAlive: boolean; database: string }

export interface FieldError { path: string; message: string }
