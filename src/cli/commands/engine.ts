/** `orch engine`: the embedded Livy-compatible engine on DuckDB, as its own process. */
import type { Command } from 'commander';
import { action } from '../action.ts';
import { integer } from '../parse.ts';

export function registerEngineCommand(program: Command): void {
  program
    .command('engine')
    .description('run the embedded Livy-compatible engine (sessions of kind sql, in DuckDB) until SIGTERM')
    .option('--port <n>', 'port to listen on (0 picks a free one)', integer('--port'), 8998)
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option('--max-sessions <n>', 'sessions plus running batches at once', integer('--max-sessions'))
    .option('--memory-limit <size>', "DuckDB memory limit, e.g. '2GB' or '25%' of the machine; half the machine by default (spills to disk beyond it)")
    .option('--idle-timeout <duration>', "stop after this long with no open session, no running batch and no HTTP request, e.g. '30m'; off by default")
    .option('--csrf', 'reject POST/DELETE without X-Requested-By, as Livy with CSRF protection does')
    .option('--home <dir>', "the engine's own folder (spill files); default $ORCH_HOME/engine")
    .action(
      action(async (opts: { port: number; host: string; maxSessions?: number; memoryLimit?: string; idleTimeout?: string; csrf?: boolean; home?: string }) => {
        // Loaded here so other commands do not pay for DuckDB at startup.
        const { runEngineCommand } = await import('../../engine/index.ts');
        return runEngineCommand(opts);
      }),
    );
}
