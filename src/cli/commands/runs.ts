/** `orch runs list|show|cancel` and `orch clear`. */
import type { Command } from 'commander';
import { clearTasks } from '../../core/run-commands.ts';
import { openContext } from '../context.ts';
import { shortTime, span, table } from '../format.ts';
import type { GlobalOptions } from '../main.ts';
import { registerCancelCommand } from './cancel-mark.ts';
import { registerRunShowCommand } from './runs-show.ts';

export function registerRunsCommands(program: Command, global: () => GlobalOptions): void {
  const runs = program.command('runs').description('DAG runs');
  runs
    .command('list')
    .description('runs, newest first')
    .option('--dag <dag>', 'only runs of this DAG')
    .option('--json', 'print JSON')
    .action(async (opts: { dag?: string; json?: boolean }) => {
      const ctx = await openContext(global(), false);
      try {
        if (opts.dag) await ctx.knownDag(opts.dag);
        const runs = ctx.store.runs.list({ dagId: opts.dag, limit: 200 });
        if (opts.json) {
          const out = runs.map((r) => ({
            dagId: r.dagId,
            runId: r.runId,
            state: r.state,
            runType: r.runType,
            triggeredBy: r.triggeredBy,
            logicalDate: r.logicalDate,
            dataIntervalStart: r.dataIntervalStart,
            dataIntervalEnd: r.dataIntervalEnd,
            conf: r.conf,
            queuedAt: r.queuedAt,
            startDate: r.startDate,
            endDate: r.endDate,
            note: r.note,
          }));
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }
        if (!runs.length) {
          process.stdout.write(`No runs${opts.dag ? ` of ${opts.dag}` : ''} yet.\n`);
          return;
        }
        process.stdout.write(
          `${table(
            ['dag_id', 'run_id', 'state', 'type', 'started', 'duration'],
            runs.map((r) => [r.dagId, r.runId, r.state + (r.note ? ` (${r.note})` : ''), r.runType, shortTime(r.startDate), span(r.startDate, r.endDate)]),
          )}\n`,
        );
      } finally {
        ctx.close();
      }
    });

  registerRunShowCommand(runs, global);
  registerCancelCommand(runs, global);

  program
    .command('clear <dag> <run_id>')
    .description("reset a run's tasks so they run again (all of them, or --task with optional --downstream)")
    .option('--task <task...>', 'only these tasks')
    .option('--downstream', 'also every task downstream of them')
    .action(async (dagId: string, runId: string, opts: { task?: string[]; downstream?: boolean }) => {
      const ctx = await openContext(global());
      try {
        const dag = ctx.requireDag(dagId);
        const cleared = clearTasks(ctx.store, dag, runId, opts.task, opts.downstream ?? false);
        process.stdout.write(`cleared ${cleared.length} task(s) in ${runId}: ${cleared.join(', ')}\n`);
        process.stdout.write(`they run again under \`orch scheduler\`, or now with \`orch run ${dag.id}\`\n`);
      } finally {
        ctx.close();
      }
    });
}
