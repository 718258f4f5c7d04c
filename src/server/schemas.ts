/**
 * JSON Schemas of every request and answer (docs/http-api.md in machine form). Routes use
 * them to validate input (a 400 naming the field) and to serialise output, and
 * @fastify/swagger turns them into /api/v1/openapi.json.
 */
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const nstr = { type: ['string', 'null'] } as const;
const nint = { type: ['integer', 'null'] } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;
const strings = { type: 'array', items: str } as const;

const obj = (properties: Record<string, unknown>, required = Object.keys(properties)) =>
  ({ type: 'object', properties, required, additionalProperties: false }) as const;

// ---- path parameters and queries ----
const id = { type: 'string', minLength: 1, maxLength: 500 } as const;
export const dagParams = obj({ dagId: id });
export const runParams = obj({ dagId: id, runId: id });
export const taskParams = obj({ dagId: id, runId: id, taskId: id });
export const tryParams = obj({ dagId: id, runId: id, taskId: id, try: { type: 'integer', minimum: 1 } });

export const dagsQuery = obj({ search: { type: 'string', maxLength: 200 }, tag: { type: 'string', maxLength: 200 } }, []);
export const runsQuery = obj({ limit: { type: 'integer', minimum: 1, maximum: 500, default: 25 }, before: id }, []);
export const gridQuery = obj({ limit: { type: 'integer', minimum: 1, maximum: 500, default: 25 } }, []);
export const logsQuery = obj({ cursor: { type: 'integer', minimum: 0, default: 0 }, limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 2000 } }, []);
export const eventsQuery = obj(
  {
    dagId: id,
    runId: id,
    logRun: id,
    logTask: id,
    logTry: { type: 'integer', minimum: 1 },
    logCursor: { type: 'integer', minimum: 0 },
    token: str,
  },
  [],
);

// ---- request bodies ----
export const patchDagBody = obj({ isPaused: bool });
export const triggerBody = obj({ conf: anyObject }, []);
export const clearBody = obj({ taskIds: { type: 'array', items: id, minItems: 1 }, downstream: bool }, []);
export const markBody = obj({ state: { type: 'string', enum: ['success', 'failed'] }, downstream: bool }, ['state']);

// ---- answers ----
const runSummary = obj({ runId: str, state: str, startDate: nstr, endDate: nstr });
const dagProps = {
  dagId: str,
  description: nstr,
  tags: strings,
  file: str,
  schedule: nstr,
  nextRunAt: nstr,
  isPaused: bool,
};
export const dagSummary = obj({ ...dagProps, taskCount: int, hasParams: bool, recentRuns: { type: 'array', items: runSummary } });
export const dagList = obj({
  dags: { type: 'array', items: dagSummary },
  errors: { type: 'array', items: obj({ file: str, code: str, message: str }) },
  historical: strings,
});
const taskDef = obj({ taskId: str, operator: str, upstream: strings, downstream: strings, triggerRule: str, pool: str, retries: int, doc: nstr });
export const dagDetail = obj({
  ...dagProps,
  maxActiveTasks: int,
  maxActiveRuns: int,
  paramsSchema: { type: ['object', 'null'], additionalProperties: true },
  tasks: { type: 'array', items: taskDef },
});
const sourceFile = obj({ path: str, language: str, text: str });
export const dagSource = obj({
  file: sourceFile,
  statementFiles: { type: 'array', items: obj({ path: str, language: str, text: str, tasks: strings }) },
});

const runProps = {
  dagId: str,
  runId: str,
  runType: str,
  triggeredBy: str,
  logicalDate: str,
  conf: anyObject,
  params: anyObject,
  state: str,
  queuedAt: str,
  startDate: nstr,
  endDate: nstr,
  note: nstr,
  cancelRequested: bool,
  owner: { anyOf: [{ type: 'null' }, obj({ host: nstr, pid: nint })] },
};
export const run = obj(runProps);
export const runPage = obj({ runs: { type: 'array', items: run }, next: nstr });

const tiProps = {
  taskId: str,
  state: str,
  tryNumber: int,
  maxTries: int,
  pool: str,
  operator: str,
  queuedAt: nstr,
  startDate: nstr,
  endDate: nstr,
  nextRetryAt: nstr,
  hostname: nstr,
  pid: nint,
  error: nstr,
  markedByHand: bool,
  progress: { type: ['number', 'null'] },
};
export const taskInstance = obj(tiProps);
const tryProps = { taskId: str, tryNumber: int, state: str, startDate: str, endDate: nstr, hostname: nstr, pid: nint, error: nstr };
export const taskTry = obj(tryProps);
const handleProps = { kind: str, externalId: str, url: nstr, tryNumber: int, createdAt: str, releasedAt: nstr, data: { anyOf: [{ type: 'null' }, anyObject] } };
export const handle = obj(handleProps);
const cluster = obj({ backend: nstr, clusterId: str, url: nstr, taskId: str, createdAt: str, releasedAt: nstr });
export const runDetail = obj({
  ...runProps,
  tasks: { type: 'array', items: taskInstance },
  tries: { type: 'array', items: taskTry },
  cluster: { anyOf: [{ type: 'null' }, cluster] },
});
export const taskDetail = obj({
  ...tiProps,
  tries: { type: 'array', items: taskTry },
  handles: { type: 'array', items: handle },
  xcom: { type: 'array', items: obj({ key: str, value: {} }) },
});
export const grid = obj({
  tasks: strings,
  runs: { type: 'array', items: obj({ runId: str, state: str, startDate: nstr, endDate: nstr, runType: str }) },
  cells: {
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: obj({ state: str, tryNumber: int, startDate: nstr, endDate: nstr }) },
  },
});
export const cancelAnswer = obj({ outcome: { type: 'string', enum: ['requested', 'finished', 'orphaned', 'already_done'] } });
export const clearAnswer = obj({ cleared: strings });
export const markAnswer = obj({ marked: strings, unchanged: strings, teardownsLeft: strings, runState: str });
export const logLine = obj({ id: int, ts: str, level: str, source: str, message: str });
export const logPage = obj({ lines: { type: 'array', items: logLine }, cursor: int, more: bool, final: bool });
export const health = obj({ status: str, version: str, authRequired: bool, schedulerAlive: bool, database: str });

export const errorBody = obj({
  error: obj({ code: str, message: str, fields: { type: 'array', items: obj({ path: str, message: str }) } }, ['code', 'message']),
});

/** A route's answers: `ok` for its success status, the error shape for the rest. */
export function answers(ok: unknown, status = 200): Record<number | string, unknown> {
  return { [status]: ok, '4xx': errorBody, '5xx': errorBody };
}
