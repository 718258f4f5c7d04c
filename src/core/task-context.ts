/** Builds the TaskContext a try sees: params, XCom, handles and a logger, all backed by the store. */
import { XComNotFoundError } from '../errors.ts';
import type { ExternalHandle, TaskContext, TaskLogger } from '../sdk/index.ts';
import { RETURN_VALUE, type DagRunRow, type Store, type TiKey } from '../store/index.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './logging.ts';

export interface ContextInput {
  store: Store;
  run: DagRunRow;
  taskId: string;
  tryNumber: number;
  maxTries: number;
  signal: AbortSignal;
  clock: Clock;
  logger: Logger;
  /** Called for every line, e.g. to stream it to a terminal or the UI. */
  onLine?: (line: { taskId: string; tryNumber: number; level: string; source: string; message: string }) => void;
  /** Don't write anything (orch tasks test): lines go to onLine only, XCom stays in memory. */
  dryRun?: boolean;
  /**
   * A log line could not be stored (e.g. the disk is full). The line is not worth failing
   * the task for, so it is reported here instead of thrown; XCom and handles still throw.
   */
  onWriteError?: (err: unknown) => void;
}

/** The context for one try of one task. */
export function buildTaskContext(input: ContextInput): TaskContext {
  const { store, run, taskId, tryNumber, clock } = input;
  const key: TiKey = { dagId: run.dagId, runId: run.runId, taskId };
  const now = () => clock.now().toISOString();
  const memory = new Map<string, unknown>();
  const memoryHandles: ExternalHandle[] = [];
  const child = input.logger.child({ dag: run.dagId, run: run.runId, task: taskId, try: tryNumber });

  const write = (level: string, source: string, message: string) => {
    if (!input.dryRun) {
      try {
        store.logs.append(key, tryNumber, level, source, message, now());
      } catch (err) {
        if (!input.onWriteError) throw err;
        input.onWriteError(err);
      }
    }
    child.debug({ source }, message);
    input.onLine?.({ taskId, tryNumber, level, source, message });
  };
  const log: TaskLogger = {
    debug: (m) => write('debug', 'orch', m),
    info: (m) => write('info', 'orch', m),
    warn: (m) => write('warn', 'orch', m),
    error: (m) => write('error', 'orch', m),
    external: (source, m, level = 'info') => write(level, source, m),
  };

  const xcomGet = (fromTask: string, xkey = RETURN_VALUE): { found: boolean; value?: unknown } => {
    if (input.dryRun && memory.has(`${fromTask}/${xkey}`)) return { found: true, value: memory.get(`${fromTask}/${xkey}`) };
    return store.xcom.get({ ...key, taskId: fromTask }, xkey);
  };

  const logicalDate = new Date(run.logicalDate);
  return {
    dagId: run.dagId,
    runId: run.runId,
    taskId,
    tryNumber,
    maxTries: input.maxTries,
    logicalDate,
    dataIntervalStart: new Date(run.dataIntervalStart),
    dataIntervalEnd: new Date(run.dataIntervalEnd),
    ds: run.logicalDate.slice(0, 10),
    params: run.params,
    conf: run.conf,
    signal: input.signal,
    log,
    xcom: {
      pull<T>(fromTask: string, xkey?: string): T {
        const r = xcomGet(fromTask, xkey);
        if (!r.found) throw new XComNotFoundError(fromTask, xkey ?? RETURN_VALUE);
        return r.value as T;
      },
      get<T>(fromTask: string, xkey?: string): T | undefined {
        return xcomGet(fromTask, xkey).value as T | undefined;
      },
      push(xkey: string, value: unknown): void {
        if (input.dryRun) memory.set(`${taskId}/${xkey}`, value);
        else store.xcom.set(key, xkey, value, now());
      },
    },
    handles: {
      record(h) {
        if (input.dryRun) {
          const i = memoryHandles.findIndex((x) => x.kind === h.kind && x.externalId === h.externalId);
          if (i >= 0) memoryHandles.splice(i, 1);
          memoryHandles.unshift({ ...h, tryNumber });
        }
        else store.handles.record(key, tryNumber, h, now());
      },
      release(kind, externalId, fromTask) {
        if (input.dryRun) {
          const i = fromTask && fromTask !== taskId ? -1 : memoryHandles.findIndex((h) => h.kind === kind && h.externalId === externalId);
          if (i >= 0) memoryHandles.splice(i, 1);
        } else store.handles.release(fromTask ? { ...key, taskId: fromTask } : key, kind, externalId, now());
      },
      list(kind, all) {
        if (input.dryRun) return memoryHandles.filter((h) => !kind || h.kind === kind);
        return store.handles.listForTask(key, { kind, includeReleased: all }).map((h) => ({
          kind: h.kind,
          externalId: h.externalId,
          url: h.url ?? undefined,
          data: h.data ?? undefined,
          tryNumber: h.tryNumber,
          releasedAt: h.releasedAt ?? undefined,
        }));
      },
      inRun(kind) {
        if (input.dryRun) return memoryHandles.filter((h) => h.kind === kind).reverse();
        return store.handles
          .listForRun(run.dagId, run.runId)
          .filter((h) => h.kind === kind && !h.releasedAt)
          .map((h) => ({ taskId: h.taskId, kind: h.kind, externalId: h.externalId, url: h.url ?? undefined, data: h.data ?? undefined, tryNumber: h.tryNumber }));
      },
    },
  };
}
