/**
 * The worker-thread side of `isolation: 'worker'`: imports the DAG file again, finds the
 * task, and runs its `run` (or `resume`) with a context over its own connection to the
 * same SQLite file — XCom, handles and log lines are written exactly as inline. The
 * result, or the error, goes back to the scheduler thread, which records the try.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isDag, type TaskContext } from '../../sdk/index.ts';
import { openStore, type DagRunRow } from '../../store/index.ts';
import { withTaskScope } from '../task-scope.ts';
import { silentLogger } from '../logging.ts';
import { buildTaskContext } from '../task-context.ts';
import type { ThreadMessage, ThreadTaskInput, WireError } from './wire.ts';
import { fromWire, toWire } from './wire.ts';

/** Imports a DAG file the way the CLI does (dag-modules.cjs). */
type ImportDagFile = (file: string, load: number) => Promise<Record<string, unknown>>;

/** Run the task described by workerData; answer with one 'done' message. */
export async function runTaskInThread(importDagFile: ImportDagFile): Promise<void> {
  const input = workerData as ThreadTaskInput;
  const port = parentPort!;
  const controller = new AbortController();
  const send = (m: ThreadMessage) => port.postMessage(m);
  port.on('message', (m: { type: 'abort'; reason: WireError }) => {
    if (m.type !== 'abort') return;
    // Said at once: a thread that cannot even say this is stuck, and is terminated without waiting.
    send({ type: 'aborting' });
    controller.abort(fromWire(m.reason));
  });
  const store = openStore(input.dryRun ? ':memory:' : input.dbFile);
  try {
    const fn = await findFunction(input, importDagFile);
    const ctx: TaskContext = buildTaskContext({
      store,
      run: input.run as DagRunRow,
      taskId: input.taskId,
      tryNumber: input.tryNumber,
      maxTries: input.maxTries,
      signal: controller.signal,
      clock: { now: () => new Date() },
      logger: silentLogger,
      dryRun: input.dryRun,
      onLine: (line) => send({ type: 'line', line }),
      // The scheduler thread notices an unwritable database through its own writes.
      onWriteError: () => undefined,
    });
    // Aborted while the thread was still starting (a short timeout on a busy host): never start the code.
    if (controller.signal.aborted) throw controller.signal.reason;
    // An error that escapes the code ends the try at once: the thread is terminated after this message.
    const value = await withTaskScope({ log: ctx.log, fail: (err) => send({ type: 'done', ok: false, error: toWire(err) }) }, () => fn(ctx));
    try {
      send({ type: 'done', ok: true, value });
    } catch (err) {
      // A function or a symbol cannot cross threads; neither could it be stored as XCom.
      send({ type: 'done', ok: false, error: toWire(new Error(`task '${input.taskId}' returned a value that cannot leave its worker thread: ${(err as Error).message}`)) });
    }
  } catch (err) {
    send({ type: 'done', ok: false, error: toWire(err) });
  } finally {
    store.close();
  }
}

async function findFunction(input: ThreadTaskInput, importDagFile: ImportDagFile): Promise<(ctx: TaskContext) => unknown> {
  const mod = await importDagFile(input.dagPath, 1);
  for (const value of Object.values(mod)) {
    if (!isDag(value) || value.id !== input.dagId) continue;
    const spec = value.tasks.find((t) => t.id === input.taskId) as { run?: (ctx: TaskContext) => unknown; resume?: (ctx: TaskContext) => unknown } | undefined;
    const fn = input.mode === 'resume' ? spec?.resume : spec?.run;
    if (fn) return fn;
  }
  throw new Error(`task '${input.taskId}' of DAG '${input.dagId}' is no longer in ${input.dagPath} as it was when the try started`);
}
