/**
 * `orch logs <dag> <run_id> <task>`: one try's lines, optionally followed live. With
 * `--json`, one JSON object per line (JSON Lines), so `--follow` can stream them too.
 */
import type { Command } from 'commander';
import { UnknownRunError, UnknownTaskError } from '../../errors.ts';
import { FINISHED_RUN_STATES, FINISHED_TASK_STATES, type TaskLogRow, type TiKey } from '../../store/index.ts';
import { openContext } from '../context.ts';
import { action } from '../action.ts';
import { TryNotFoundError } from '../errors.ts';
import type { GlobalOptions } from '../main.ts';
import { adopters, driverOf } from '../owner.ts';
import { positive } from '../parse.ts';

export function registerLogsCommand(program: Command, global: () => GlobalOptions): void {
  program
    .command('logs <dag> <run_id> <task>')
    .description("a task's log: orch's lines, Livy's log lines and statement output (latest try unless --try)")
    .option('--try <n>', 'which try (1 = first)', positive('--try'))
    .option('--follow', 'keep printing new lines until the try ends')
    .option('--json', 'one JSON object per line: {"id", "tryNumber", "ts", "level", "source", "message"}')
    .action(
      action(async (dagId: string, runId: string, taskId: string, opts: { try?: number; follow?: boolean; json?: boolean }) => {
        const ctx = await openContext(global(), false);
        try {
          await ctx.knownDag(dagId);
          if (!ctx.store.runs.get(dagId, runId)) throw new UnknownRunError(dagId, runId);
          const key: TiKey = { dagId, runId, taskId };
          const ti = ctx.store.tis.get(key);
          if (!ti) throw new UnknownTaskError(dagId, taskId, ctx.store.tis.listForRun(dagId, runId).map((t) => t.taskId));
          // A task that has not run yet has an empty try 1 to show (or to follow until it starts).
          if (opts.try !== undefined && opts.try > Math.max(ti.tryNumber, 1)) throw new TryNotFoundError(taskId, ti.tryNumber, opts.try);
          const tryNumber = opts.try ?? Math.max(ti.tryNumber, 1);
          let last = 0;
          const print = (rows: TaskLogRow[]) => {
            for (const r of rows) {
              process.stdout.write(opts.json ? `${JSON.stringify(r)}\n` : `${r.ts} ${r.level.toUpperCase().padEnd(5)} [${r.source}] ${r.message}\n`);
              last = r.id;
            }
          };
          print(ctx.store.logs.read(key, tryNumber));
          let toldQueued = false;
          while (opts.follow) {
            const cur = ctx.store.tis.get(key)!;
            const run = ctx.store.runs.get(dagId, runId)!;
            // Follow while the try runs, and while it has yet to start in a run that is not over
            // (a task still waiting on its upstream, or for its retry).
            const running = cur.tryNumber === tryNumber && (cur.state === 'running' || cur.state === 'queued');
            const toCome = cur.tryNumber < tryNumber && !FINISHED_TASK_STATES.has(cur.state) && !FINISHED_RUN_STATES.has(run.state);
            // A started run nobody drives (drained, or its process died) writes nothing more until it is adopted.
            const driver = run.state === 'running' ? driverOf(run, new Date()) : undefined;
            if (run.state === 'queued' && !run.ownerId && !toldQueued) {
              process.stderr.write(`run ${runId} of ${dagId} is queued and no orch process has started it yet; following until \`orch scheduler\` starts it (Ctrl-C stops following)\n`);
              toldQueued = true;
            }
            await new Promise((r) => setTimeout(r, 250));
            print(ctx.store.logs.read(key, tryNumber, last));
            if (!running && !toCome) break;
            if (driver && !driver.alive) {
              process.stderr.write(`stopped following: no orch process is running run ${runId} of ${dagId} (${driver.why}); ${adopters(dagId)} will finish it\n`);
              break;
            }
          }
          const end = ctx.store.tis.get(key)!;
          if (end.tryNumber === 0) process.stderr.write(`task '${taskId}' has not run yet (state: ${end.state})\n`);
        } finally {
          ctx.close();
        }
      }),
    );
}
