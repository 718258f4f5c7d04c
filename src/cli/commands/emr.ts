/** `orch emr reap`: find the EMR clusters orch created whose run is over, and terminate them. */
import type { Command } from 'commander';
import { duration } from '../parse.ts';
import { openContext } from '../context.ts';
import { action } from '../action.ts';
import type { GlobalOptions } from '../main.ts';

export function registerEmrCommands(program: Command, global: () => GlobalOptions): void {
  const emr = program.command('emr').description('Amazon EMR clusters created by orch');
  emr
    .command('reap')
    .description("terminate running EMR clusters tagged by orch whose run has finished or is unknown to this database, after a grace period; lists each cluster found and why it was or was not terminated")
    .option('--dry-run', 'only list what would be terminated')
    .option('--grace <duration>', 'leave clusters alone this long after their run ended (or, for unknown runs, after they were created); default 10m', duration('--grace'))
    .action(action(async (opts: { dryRun?: boolean; grace?: number }) => {
      const graceMs = opts.grace;
      const ctx = await openContext(global());
      try {
        const { reapEmrClusters, formatDecisions } = await import('../../operators/cluster/emr/reaper.ts');
        const { databaseTag } = await import('../../operators/cluster/emr/request.ts');
        const settings = (ctx.config.backends.emr ?? {}) as { region?: string; endpoint?: string };
        const decisions = await reapEmrClusters(ctx.store, { region: settings.region, endpoint: settings.endpoint, dryRun: opts.dryRun, graceMs, dbTag: databaseTag(ctx.config.dbFile) });
        process.stdout.write(formatDecisions(decisions));
        return decisions.some((d) => d.action === 'failed') ? 1 : 0;
      } finally {
        ctx.close();
      }
    }));
}
