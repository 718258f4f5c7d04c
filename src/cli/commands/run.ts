/** `orch run` (one run in the foreground) and `orch trigger` (queue a run for the scheduler). */
import type { Command } from 'commander';
import { createLogger } from '../../core/logging.ts';
import { createRun } from '../../core/runs/create-run.ts';
import { parseConf } from '../../core/runs/params.ts';
import { openContext } from '../context.ts';
import { ProgressDisplay } from '../progress.ts';
import { action } from '../action.ts';
import { checkBackend } from '../../operators/cluster/backends.ts';
import { reapClusters } from '../../operators/cluster/reaper.ts';
import type { GlobalOptions } from '../main.ts';

export function registerRunCommands(program: Command, global: () => GlobalOptions): void {
  program
    .command('run <dag>')
    .description('run a DAG now, in the foreground, showing progress (resumes an interrupted run of it first)')
    .option('--conf <json>', 'run conf as a JSON object, checked against the DAG params')
    .option('--backend <name>', 'cluster backend: embedded, livy or emr')
    .action(action(async (dagId: string, opts: { conf?: string; backend?: string }) => {
      const conf = opts.conf === undefined ? undefined : parseConf(opts.conf);
      if (opts.backend) process.env.ORCH_BACKEND = opts.backend;
      const ctx = await openContext({ ...global(), backend: opts.backend });
      const dag = ctx.requireDag(dagId);
      // A DAG that never touches a cluster runs on any setting; one that does must not start on a broken one.
      if ([...dag.tasks.values()].some((t) => t.operatorType.startsWith('cluster.'))) checkBackend(ctx.config);
      const logger = createLogger({ level: process.env.ORCH_LOG_LEVEL ?? 'warn' });
      const scheduler = ctx.scheduler(logger);
      const display = new ProgressDisplay(process.stdout, [...dag.tasks.keys()], dag.id);
      let runId: string | undefined;
      scheduler.events.on('run', (e) => {
        if (e.dagId !== dag.id || runId) return;
        runId = e.runId;
        const run = ctx.store.runs.get(dag.id, e.runId)!;
        for (const ti of ctx.store.tis.listForRun(dag.id, e.runId)) display.seed(ti.taskId, ti.state, ti.tryNumber);
        display.setTitle(`${dag.id} ${run.runId}${e.adopted ? ' (resuming an unfinished run)' : ''}`);
      });
      display.attach(scheduler.events, () => runId);
      const stopping = new AbortController();
      const onSigint = () => {
        if (stopping.signal.aborted) process.exit(130);
        stopping.abort();
        process.stderr.write('\ncancelling the run (teardown tasks still run); press Ctrl-C again to leave it for later\n');
        if (runId) scheduler.cancel(dag.id, runId, 'cancelled from the terminal (Ctrl-C)');
      };
      const onSigterm = () => {
        process.stderr.write(`\nSIGTERM: running tasks may finish, no new ones start; the run is left for \`orch run ${dag.id}\` or \`orch scheduler\` to finish\n`);
        void scheduler.drain();
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigterm);
      try {
        await reapClusters(ctx.store, logger);
      const result = await scheduler.runDag(dag.id, { conf, triggeredBy: 'cli' });
        display.stop();
        const { run } = result;
        const failed = ctx.store.tis.listForRun(dag.id, run.runId).filter((t) => t.state === 'failed' || t.state === 'upstream_failed');
        process.stdout.write(`\n${result.adopted ? 'resumed ' : ''}run ${run.runId}: ${result.state}${run.note ? ` (${run.note})` : ''}\n`);
        for (const t of failed.filter((t) => t.state === 'failed')) process.stdout.write(`  ✗ ${t.taskId}: ${t.error ?? 'failed'}\n`);
        const outputs = ctx.store.tis
          .listForRun(dag.id, run.runId)
          .filter((t) => t.state === 'success')
          .map((t) => ctx.store.xcom.get({ dagId: dag.id, runId: run.runId, taskId: t.taskId }, 'return_value'))
          .flatMap((x) => (x.found && typeof (x.value as { outputDir?: unknown })?.outputDir === 'string' ? [(x.value as { outputDir: string }).outputDir] : []));
        if (outputs.length) process.stdout.write(`output: ${outputs.join('\n        ')}\n`);
        process.stdout.write(`logs: orch logs ${dag.id} ${run.runId} <task>   (database: ${ctx.config.dbFile})\n`);
        if (result.state === 'running') {
          process.stdout.write(`the run was interrupted; \`orch run ${dag.id}\` or \`orch scheduler\` will finish it\n`);
          return 1;
        }
        return result.state === 'success' ? 0 : 1;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigterm);
        display.stop();
        ctx.close();
      }
    }));

  program
    .command('trigger <dag>')
    .description('queue a run; a running `orch scheduler` starts it')
    .option('--conf <json>', 'run conf as a JSON object, checked against the DAG params')
    .action(async (dagId: string, opts: { conf?: string }) => {
      const conf = parseConf(opts.conf);
      const ctx = await openContext(global());
      try {
        const dag = ctx.requireDag(dagId);
        const run = createRun(ctx.store, dag, { conf, triggeredBy: 'cli', runType: 'manual', now: new Date() });
        process.stdout.write(`queued run ${run.runId} of ${dag.id}${ctx.store.dags.isPaused(dag.id) ? ' (the DAG is paused: unpause it to start the run)' : ''}\n`);
      } finally {
        ctx.close();
      }
    });
}
