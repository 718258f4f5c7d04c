/** `orch logs <dag> <run_id> <task>`: one try's lines, optionally followed live. */
import type { Command } from 'commander';
import { UnknownRunError, UnknownTaskError } from '../../errors.ts';
import { FINISHED_RUN_STATES, FINISHED_TASK_STATES, type TaskLogRow } from '../../store/index.ts';
import { openContext } from '../context.ts';
import { action } from '../action.ts';
import type { GlobalOptions } from '../main.ts';

export function registerLogsCommand(program: Command, global: () => GlobalOptions): void {
  program
    .command('logs <dag> <run_id> <task>')
    .description("a task's log: orch's lines, Livy's log lines and statement output (latest try unless --try)")
    .option('--try <n>', 'which try (1 = first)', (v) => Number.parseInt(v, 10))
    .option('--follow', 'keep printing new lines until the try ends')
    .action(
      action(async (dagId: string, runId: string, taskId: string, opts: { try?: number; follow?: boolean }) => {
        const ctx = await openContext(global(), false);
        try {
          if (!ctx.store.runs.get(dagId, runId)) throw new UnknownRunError(dagId, runId);
          const key = { dagId, runId, taskId };
          const ti = ctx.store.tis.get(key);
          if (!ti) throw new UnknownTaskError(dagId, taskId, ctx.store.tis.listForRun(dagId, runId).map((t) => t.taskId));
          const tryNumber = opts.try ?? Math.max(ti.tryNumber, 1);
          if (opts.try !== undefined && (!Number.isInteger(opts.try) || opts.try < 1 || opts.try > Math.max(ti.tryNumber, 1))) {
            process.stderr.write(`task '${taskId}' has ${ti.tryNumber} tr${ti.tryNumber === 1 ? 'y' : 'ies'}; --try must be 1..${Math.max(ti.tryNumber, 1)}\n`);
            return 2;
          }
          let last = 0;
          const print = (rows: TaskLogRow[]) => {
            for (const r of rows) {
              process.stdout.write(`${r.ts} ${r.level.toUpperCase().padEnd(5)} [${r.source}] ${r.message}\n`);
              last = r.id;
            }
          };
          print(ctx.store.logs.read(key, tryNumber));
          while (opts.follow) {
            const cur = ctx.store.tis.get(key)!;
            const run = ctx.store.runs.get(dagId, runId)!;
            // Follow while the try runs, and while it has yet to start in a run that is not over
            // (a task still waiting on its upstream, or for its retry).
            const running = cur.tryNumber === tryNumber && (cur.state === 'running' || cur.state === 'queued');
            const toCome = cur.tryNumber < tryNumber && !FINISHED_TASK_STATES.has(cur.state) && !FINISHED_RUN_STATES.has(run.state);
            await new Promise((r) => setTimeout(r, 250));
            print(ctx.store.logs.read(key, tryNumber, last));
            if (!running && !toCome) break;
          }
          const end = ctx.store.tis.get(key)!;
          if (end.tryNumber === 0) process.stderr.write(`task '${taskId}' has not run yet (state: ${end.state})\n`);
        } finally {
          ctx.close();
        }
      }),
    );
}
