/** `orch run` (one run in the foreground) and `orch trigger` (queue a run for the scheduler). */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { createLogger } from '../../core/logging.ts';
import type { RunResult } from '../../core/scheduler.ts';
import { PREFLIGHT_FAILED } from '../../core/run-records.ts';
import { DatabaseError, RunNotStartedError } from '../../errors.ts';
import { createRun } from '../../core/runs/create-run.ts';
import { parseConf } from '../../core/runs/params.ts';
import { openContext, type CliContext } from '../context.ts';
import { ProgressDisplay } from '../progress.ts';
import { action } from '../action.ts';
import { backendsFrom, checkBackend } from '../../operators/cluster/backends.ts';
import { reapClusters } from '../../operators/cluster/reaper.ts';
import type { GlobalOptions } from '../main.ts';

export function registerRunCommands(program: Command, global: () => GlobalOptions): void {
  program
    .command('run <dag>')
    .description('run a DAG now, in the foreground, showing progress (resumes an interrupted run of it first)')
    .option('--conf <json>', 'run conf as a JSON object, checked against the DAG params')
    .option('--backend <name>', 'cluster backend: embedded, livy or emr')
    .option('--dry-run', 'print the requests the run would make, in order (and for EMR what the cluster costs), sending none')
    .action(action(async (dagId: string, opts: { conf?: string; backend?: string; dryRun?: boolean }) => {
      const conf = opts.conf === undefined ? undefined : parseConf(opts.conf);
      if (opts.backend) process.env.ORCH_BACKEND = opts.backend;
      const ctx = await openContext({ ...global(), backend: opts.backend });
      try {
        if (opts.dryRun) return await dryRun(ctx, dagId, conf);
        return await runInForeground(ctx, dagId, conf);
      } finally {
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

/** Print the run's plan; exit 1 when a task cannot be planned (its error says why). */
async function dryRun(ctx: CliContext, dagId: string, conf: Record<string, unknown> | undefined): Promise<number> {
  const dag = ctx.requireDag(dagId);
  const backend = [...dag.tasks.values()].some((t) => t.operatorType.startsWith('cluster.')) ? checkBackend(ctx.config) : 'none';
  const [{ planRun }, { builtinOperators }, { formatPlan, runLengthHints }] = await Promise.all([
    import('../../core/dry-run.ts'),
    import('../../operators/index.ts'),
    import('./dry-run.ts'),
  ]);
  const plan = await planRun(dag, conf, builtinOperators(ctx.config), runLengthHints(ctx.store, dag, backend));
  process.stdout.write(formatPlan(dag, plan, backend));
  return plan.tasks.some((t) => t.error || t.blockedBy) ? 1 : 0;
}

/**
 * One run in the foreground. Ctrl-C once cancels the run (teardown tasks such as
 * terminate_cluster still run); twice stops waiting and hands the run back unfinished,
 * like a drain: the next `orch run` finishes the cancel. SIGTERM drains.
 */
async function runInForeground(ctx: CliContext, dagId: string, conf: Record<string, unknown> | undefined): Promise<number> {
  const dag = ctx.requireDag(dagId);
  // A DAG that never touches a cluster runs on any setting; one that does must not start on a broken one.
  if ([...dag.tasks.values()].some((t) => t.operatorType.startsWith('cluster.'))) checkBackend(ctx.config);
  if (ctx.store.dags.isPaused(dag.id)) {
    process.stderr.write(`note: ${dag.id} is paused, so the scheduler starts none of its runs; orch run runs it anyway (orch unpause ${dag.id} to resume scheduling)\n`);
  }
  const logger = createLogger({ level: process.env.ORCH_LOG_LEVEL ?? 'warn' });
  const scheduler = await ctx.scheduler(logger);
  const display = new ProgressDisplay(process.stdout, [...dag.tasks.keys()], dag.id);
  let runId: string | undefined;
  let followed = false;
  scheduler.events.on('run', (e) => {
    if (e.dagId === dag.id && e.runId === runId && followed && e.adopted) {
      followed = false;
      process.stderr.write(`the process driving run ${runId} is gone; this orch run takes it over and finishes it\n`);
      return;
    }
    if (e.dagId !== dag.id || runId) return;
    runId = e.runId;
    followed = e.followed !== undefined;
    for (const ti of ctx.store.tis.listForRun(dag.id, e.runId)) display.seed(ti.taskId, ti.state, ti.tryNumber);
    const where = e.followed ? `pid ${e.followed.ownerPid ?? '?'}${e.followed.ownerHost && e.followed.ownerHost !== hostname() ? ` on ${e.followed.ownerHost}` : ''}` : '';
    const note = e.followed
      ? ` (an identical run is already going in ${where}: following it; Ctrl-C stops following, the run goes on)`
      : e.adopted
        ? ` (resuming an unfinished run${e.cancelling ? ' that was being cancelled: finishing its cancel and teardown' : ''})`
        : '';
    display.setTitle(`${dag.id} ${e.runId}${note}`);
  });
  display.attach(scheduler.events, () => runId);
  const following = new AbortController();
  /** The signal that interrupted the command, for its exit code (130, 143) and messages. */
  let interrupted: 'SIGINT' | 'SIGTERM' | undefined;
  let presses = 0;
  const onSigint = () => {
    presses++;
    interrupted ??= 'SIGINT';
    if (followed) {
      process.stderr.write('\nstopped following; the run goes on in the process that drives it\n');
      following.abort();
    } else if (!runId) {
      process.stderr.write('\nstopping before the run starts\n');
      void scheduler.drain(0);
    } else if (presses === 1) {
      process.stderr.write('\ncancelling the run: running tasks are stopped, teardown tasks (terminate_cluster) still run. Ctrl-C again stops waiting and leaves the run for the next `orch run` to finish\n');
      scheduler.cancel(dag.id, runId, 'cancelled from the terminal (Ctrl-C)');
    } else if (presses === 2) {
      process.stderr.write(`\nleaving the run unfinished: Livy work and the cluster are left as they are; \`orch run ${dag.id}\` finishes the cancel. Ctrl-C once more quits at once\n`);
      void scheduler.drain(0);
    } else process.exit(130);
  };
  const onSigterm = () => {
    interrupted = 'SIGTERM';
    if (followed) {
      process.stderr.write('\nSIGTERM: stopped following; the run goes on in the process that drives it\n');
      following.abort();
      return;
    }
    process.stderr.write(
      runId
        ? `\nSIGTERM: no new tasks start; running function tasks get a grace period to finish, Livy statements keep running; the run is left for \`orch run ${dag.id}\` or \`orch scheduler\` to finish\n`
        : '\nSIGTERM: stopping before the run starts\n',
    );
    void scheduler.drain();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    await reapClusters(ctx.store, logger, backendsFrom(ctx.config));
    const result = await scheduler.runDag(dag.id, { conf, triggeredBy: 'cli', signal: following.signal });
    display.stop();
    return printResult(ctx, dag.id, result, interrupted);
  } catch (err) {
    if (err instanceof RunNotStartedError) {
      display.stop();
      process.stderr.write(`${err.message}\n`);
      return exitCodeOf(interrupted ?? 'SIGTERM');
    }
    if (!(err instanceof DatabaseError)) throw err;
    display.stop();
    // Whatever is still settling must not keep the process up: nothing more can be recorded anyway.
    setTimeout(() => process.exit(1), 5_000).unref();
    process.stderr.write(`\nerror ${err.code}: ${err.message}\n`);
    if (!runId) return 2; // Nothing started: like any other unusable input.
    process.stderr.write(`run ${runId} is left unfinished (nothing more could be recorded); Livy statements and the cluster were left running. Once the database is writable, \`orch run ${dag.id}\` resumes it\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    display.stop();
  }
}

/** What a shell expects from a command a signal interrupted: 128 + the signal's number. */
const exitCodeOf = (signal: 'SIGINT' | 'SIGTERM') => (signal === 'SIGINT' ? 130 : 143);

/**
 * The run's outcome, outputs and where its logs are. Exit code: 0 success, 1 failed, 2 when
 * its preflight check failed (bad input, nothing ran), 130/143 when Ctrl-C or SIGTERM
 * interrupted the command (the run was cancelled, or left to finish later).
 */
function printResult(ctx: CliContext, dagId: string, result: RunResult, interrupted: 'SIGINT' | 'SIGTERM' | undefined): number {
  const { run } = result;
  const tis = ctx.store.tis.listForRun(dagId, run.runId);
  const by = result.followed && !result.adopted ? ` (driven by pid ${result.followed.ownerPid ?? '?'})` : '';
  process.stdout.write(`\n${result.adopted ? 'resumed ' : ''}run ${run.runId}${by}: ${result.state}${run.note ? ` (${run.note})` : ''}\n`);
  for (const t of tis.filter((t) => t.state === 'failed')) process.stdout.write(`  ✗ ${t.taskId}: ${t.error ?? 'failed'}\n`);
  const outputs = tis
    .filter((t) => t.state === 'success')
    .map((t) => ctx.store.xcom.get({ dagId, runId: run.runId, taskId: t.taskId }, 'return_value'))
    .flatMap((x) => (x.found && typeof (x.value as { outputDir?: unknown })?.outputDir === 'string' ? [(x.value as { outputDir: string }).outputDir] : []));
  if (outputs.length) process.stdout.write(`output: ${outputs.join('\n        ')}\n`);
  process.stdout.write(`logs: orch logs ${dagId} ${run.runId} <task>   (database: ${ctx.config.dbFile})\n`);
  if (result.state === 'running') {
    const how = result.followed && !result.adopted ? 'it goes on in the process that drives it' : `\`orch run ${dagId}\` or \`orch scheduler\` will finish it`;
    process.stdout.write(`the run is not finished; ${how}\n`);
  }
  if (interrupted) return exitCodeOf(interrupted);
  if (result.state === 'running') return 1;
  if (run.note === PREFLIGHT_FAILED) return 2;
  return result.state === 'success' ? 0 : 1;
}
