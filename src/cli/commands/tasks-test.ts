/** `orch tasks test <dag> <task>`: run one task alone, printing its log; nothing is recorded. */
import type { Command } from 'commander';
import { errorText, runTry } from '../../core/executor.ts';
import { createLogger } from '../../core/logging.ts';
import { bindTask } from '../../core/operator.ts';
import { parseConf, resolveParams } from '../../core/runs/params.ts';
import { buildTaskContext } from '../../core/task-context.ts';
import { UnknownTaskError } from '../../errors.ts';
import { builtinOperators } from '../../operators/index.ts';
import type { ExternalHandle } from '../../sdk/index.ts';
import { openStore, type DagRunRow } from '../../store/index.ts';
import { action } from '../action.ts';
import { openContext } from '../context.ts';
import type { GlobalOptions } from '../main.ts';
import { testEnginesLeft, TEST_RUN_PREFIX } from '../test-engines.ts';
import { registerMarkCommand } from './cancel-mark.ts';

export function registerTasksCommands(program: Command, global: () => GlobalOptions): void {
  const tasks = program.command('tasks').description('work with single tasks');
  registerMarkCommand(tasks, global);
  tasks
    .command('test <dag> <task>')
    .description('run one task alone, ignoring dependencies; no state is recorded')
    .option('--conf <json>', 'run conf as a JSON object, checked against the DAG params')
    .action(
      action(async (dagId: string, taskId: string, opts: { conf?: string }) => {
        const conf = parseConf(opts.conf);
        const ctx = await openContext(global());
        ctx.close(); // Nothing is written: the real store is not needed past loading the DAG.
        const dag = ctx.requireDag(dagId);
        const task = dag.tasks.get(taskId);
        if (!task) throw new UnknownTaskError(dag.id, taskId, [...dag.tasks.keys()]);
        const params = resolveParams(dag, conf);
        const now = new Date().toISOString();
        const run: DagRunRow = {
          dagId: dag.id,
          runId: `${TEST_RUN_PREFIX}${now}`,
          runType: 'manual',
          triggeredBy: 'cli',
          logicalDate: now,
          dataIntervalStart: now,
          dataIntervalEnd: now,
          conf,
          params,
          state: 'running',
          queuedAt: now,
          startDate: now,
          endDate: null,
          ownerId: null,
          ownerHost: null,
          ownerPid: null,
          ownerIdentity: null,
          leaseExpiresAt: null,
          cancelRequested: false,
          note: null,
        };
        const memory = openStore(':memory:');
        const controller = new AbortController();
        process.once('SIGINT', () => controller.abort(new Error('interrupted (Ctrl-C)')));
        const onLine = (l: { level: string; source: string; message: string }) =>
          process.stdout.write(`${new Date().toISOString()} ${l.level.toUpperCase().padEnd(5)} [${l.source}] ${l.message}\n`);
        const taskCtx = buildTaskContext({
          store: memory,
          run,
          taskId,
          tryNumber: 1,
          maxTries: 1,
          signal: controller.signal,
          clock: { now: () => new Date() },
          logger: createLogger({ level: 'warn' }),
          dryRun: true,
          onLine,
        });
        const thread = { dagPath: dag.path, dbFile: ':memory:', dryRun: true, run, abortGraceMs: 10_000, onLine };
        try {
          const result = await runTry(bindTask(task, builtinOperators(ctx.config), thread), taskCtx, {
            mode: 'execute',
            timeoutMs: task.executionTimeoutMs,
            abortGraceMs: 10_000,
            controller,
          });
          for (const h of taskCtx.handles.list()) process.stdout.write(`\n${leftOpenNote(h)}\n`);
          if (task.operatorType === 'cluster.terminate' && result.state === 'success' && result.value === null) {
            process.stdout.write(`\n${terminateNote(dag.id, String(task.operator?.options.cluster ?? ''), ctx.config.home)}\n`);
          }
          if (result.state === 'success') {
            process.stdout.write(`\n${taskId}: success${result.value !== undefined ? `\nreturn value: ${JSON.stringify(result.value)}` : ''}\n`);
            return 0;
          }
          process.stdout.write(`\n${taskId}: failed: ${errorText(result.error)}\n`);
          return 1;
        } finally {
          memory.close();
        }
      }),
    );
}

/** What the task left open: nothing is recorded, so no teardown or reaper will ever see it. */
function leftOpenNote(h: ExternalHandle): string {
  const pid = Number(h.data?.pid);
  const what = `${h.kind} ${h.externalId}${pid ? ` (pid ${pid})` : ''}${h.url ? ` at ${h.url}` : ''}`;
  if (h.data?.backend === 'embedded' && pid) {
    return `note: the task started an orch engine, ${what}, and left it running: orch tasks test records nothing, so no terminate_cluster or reaper will stop it. Stop it when done with: kill ${pid}\n(it also stops by itself once idle for its idleTimeout, 1 h by default)`;
  }
  return `note: the task opened ${what} and it is still there; stop it yourself when done`;
}

/** Why a terminate under `tasks test` stopped nothing, and how to stop what an earlier `tasks test` started. */
function terminateNote(dagId: string, createTask: string, home: string): string {
  const lines = [
    `note: orch tasks test records nothing, so this task had no cluster of '${createTask}' to find and terminated nothing — not even an engine an earlier \`orch tasks test ${dagId} ${createTask}\` started (the whole DAG, \`orch run ${dagId}\`, creates and terminates its cluster)`,
  ];
  const left = testEnginesLeft(home);
  if (left === undefined) lines.push(`to stop an engine \`orch tasks test ${dagId} ${createTask}\` left running: kill <pid>, with the pid its note printed`);
  else if (!left.length) lines.push(`no engine started by orch tasks test is running in ${home}`);
  else for (const e of left) lines.push(`an engine orch tasks test started is still running: ${e.clusterId} (pid ${e.pid}); stop it with: kill ${e.pid}`);
  return lines.join('\n');
}
