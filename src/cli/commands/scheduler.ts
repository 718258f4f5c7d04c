/** `orch scheduler`: cron runs, triggered runs and adoption of orphaned runs, until SIGTERM. */
import type { Command } from 'commander';
import { createLogger } from '../../core/logging.ts';
import { DatabaseError } from '../../errors.ts';
import { action } from '../action.ts';
import { openContext } from '../context.ts';
import type { GlobalOptions } from '../main.ts';

export function registerSchedulerCommand(program: Command, global: () => GlobalOptions): void {
  program
    .command('scheduler')
    .description('run the scheduler: create runs from cron schedules, start triggered runs, finish orphaned ones')
    .action(action(async () => {
      const ctx = await openContext(global(), true, true);
      const logger = createLogger();
      try {
        ctx.requireDagsFolder();
      } catch (err) {
        // The scheduler re-reads the folder as it runs, so it may appear later: a warning, not an exit.
        logger.warn(`${(err as Error).message}; no DAG runs until it exists`);
      }
      for (const e of ctx.dagBag.errors()) logger.error({ file: e.file, code: e.code }, e.message);
      const scheduler = await ctx.scheduler(logger);
      const stop = new AbortController();
      const onSignal = (sig: string) => {
        logger.info(
          `${sig}: draining — no new tasks start; Livy statements, batches and clusters keep running and are followed by the next orch process; function tasks get a grace period; then leases are released`,
        );
        stop.abort();
      };
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
      logger.info({ dags: ctx.dagBag.ids(), folder: ctx.config.dagsFolder, db: ctx.config.dbFile }, `scheduler started (pid ${process.pid})`);
      try {
        await scheduler.serve(stop.signal);
        logger.info('scheduler stopped');
      } catch (err) {
        if (!(err instanceof DatabaseError)) throw err;
        // Runs were left as after a crash; whatever is still settling must not keep the process up.
        setTimeout(() => process.exit(1), 5_000).unref();
        process.stderr.write(`error ${err.code}: ${err.message}\nthe runs it was driving are left unfinished; once the database is usable, \`orch scheduler\` (or \`orch run <dag>\`) resumes them\n`);
        return 1;
      } finally {
        ctx.close();
      }
    }));
}
