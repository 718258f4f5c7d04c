/**
 * `orch runs cancel` and `orch tasks mark`: change a run from outside the process driving
 * it. Each prints what it did and what happens next, which depends on who drives the run.
 */
import { Argument, type Command } from 'commander';
import { cancelRun, markTask, teardownTasks } from '../../core/run-commands.ts';
import { allDownstream, type DagDefinition } from '../../core/dags/definition.ts';
import { FINISHED_TASK_STATES, type Store } from '../../store/index.ts';
import { openContext } from '../context.ts';
import type { GlobalOptions } from '../main.ts';
import { adopters, driverOf } from '../owner.ts';

export function registerCancelCommand(runs: Command, global: () => GlobalOptions): void {
  runs
    .command('cancel <dag> <run_id>')
    .description('cancel a run: running tasks are stopped, tasks not started are skipped, teardown tasks still run')
    .action(async (dagId: string, runId: string) => {
      const ctx = await openContext(global());
      try {
        const dag = await ctx.knownDag(dagId);
        const now = new Date();
        const outcome = cancelRun(ctx.store, dagId, runId, now);
        const run = ctx.store.runs.get(dagId, runId)!;
        const out = (line: string) => process.stdout.write(`${line}\n`);
        const teardowns = dag ? teardownsToRun(ctx.store, dag, runId) : [];
        const thenTeardowns = teardowns.length ? `, and runs the teardown tasks (${teardowns.join(', ')})` : '';
        if (outcome === 'already_done') {
          out(`run ${runId} of ${dagId} had already finished (${run.state}${run.note ? `, ${run.note}` : ''}); nothing to cancel`);
        } else if (outcome === 'finished') {
          out(`cancelled run ${runId} of ${dagId}: it was queued and had not started, so it is now failed (cancelled) and none of its tasks will run`);
        } else {
          const driver = driverOf(run, now);
          if (driver.alive) {
            out(`cancel requested for run ${runId} of ${dagId}`);
            out(`the orch process running it (${driver.who}) acts on it within a heartbeat (${ctx.config.heartbeatMs / 1000} s): it stops the running tasks, skips the tasks not started${thenTeardowns}`);
            out(`follow it with: orch runs show ${dagId} ${runId}`);
          } else {
            out(`cancel recorded for run ${runId} of ${dagId}, but no orch process is running it: ${driver.why}`);
            if (!dag) out(`its DAG file is no longer in ${ctx.config.dagsFolder}, so no orch process can adopt the run: put the file back, then run ${adopters(dagId)} to carry out the cancel and its teardown tasks`);
            else out(`nothing is stopped until ${adopters(dagId)} adopts the run; it then honours the cancel${thenTeardowns}`);
          }
        }
      } finally {
        ctx.close();
      }
    });
}

export function registerMarkCommand(tasks: Command, global: () => GlobalOptions): void {
  tasks
    .command('mark')
    .description("set a task's state by hand; a running try is stopped")
    .argument('<dag>')
    .argument('<run_id>')
    .argument('<task>')
    .addArgument(new Argument('<state>', 'success or failed').choices(['success', 'failed']))
    .option('--downstream', 'also mark every task downstream of it (teardown tasks are left to run)')
    .action(async (dagId: string, runId: string, taskId: string, state: 'success' | 'failed', opts: { downstream?: boolean }) => {
      const ctx = await openContext(global());
      try {
        const dag = ctx.requireDag(dagId);
        const now = new Date();
        const before = ctx.store.runs.get(dagId, runId);
        const running = new Set(before ? ctx.store.tis.listForRun(dagId, runId).filter((t) => t.state === 'running').map((t) => t.taskId) : []);
        const result = markTask(ctx.store, dag, runId, taskId, state, now, opts.downstream ?? false);
        const run = ctx.store.runs.get(dagId, runId)!;
        const out = (line: string) => process.stdout.write(`${line}\n`);
        out(result.marked.length ? `marked ${state} in ${runId}: ${result.marked.join(', ')}` : `nothing to mark in ${runId}`);
        if (result.unchanged.length) out(`already ${state}: ${result.unchanged.join(', ')}`);
        if (result.teardownsLeft.length) out(`left to run as their trigger rule says (teardown tasks): ${result.teardownsLeft.join(', ')}`);
        const stopped = result.marked.filter((t) => running.has(t));
        if (run.state === 'success' || run.state === 'failed') {
          out(before!.state === run.state ? `the run stays ${run.state}${run.note ? ` (${run.note})` : ''}` : `the run is now ${run.state} (was ${before!.state})`);
          const after = opts.downstream ? [] : allDownstream(dag, taskId);
          if (after.length) out(`the run is finished, so the tasks after ${taskId} do not run again; to run them: orch clear ${dagId} ${runId} --task ${after[0]} --downstream`);
        } else if (run.state === 'queued') {
          out('the run has not started; when it does, the marked tasks are not run');
        } else {
          const driver = driverOf(run, now);
          if (!driver.alive) out(`no orch process is running this run (${driver.why}); ${adopters(dagId)} will continue it from here`);
          else if (stopped.length) out(`the orch process running it (${driver.who}) stops ${stopped.join(', ')} within a heartbeat (${ctx.config.heartbeatMs / 1000} s); the tasks after it then go on as their trigger rules say`);
          else out(`the orch process running it (${driver.who}) goes on from here within a heartbeat (${ctx.config.heartbeatMs / 1000} s)`);
        }
      } finally {
        ctx.close();
      }
    });
}

/** Teardown tasks of the run that have not finished yet: the ones a cancel still runs. */
function teardownsToRun(store: Store, dag: DagDefinition, runId: string): string[] {
  const states = new Map(store.tis.listForRun(dag.id, runId).map((t) => [t.taskId, t.state]));
  return teardownTasks(dag).filter((t) => states.has(t) && !FINISHED_TASK_STATES.has(states.get(t)!));
}
