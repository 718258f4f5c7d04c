/** `orch engine`: the embedded Livy-compatible engine on DuckDB, as its own process. */
import { InvalidArgumentError, type Command } from 'commander';
import { idleTimeoutMs } from '../../engine/idle.ts';
import { MEMORY_LIMIT_FORMS, memoryLimitProblem } from '../../sdk/memory-limit.ts';
import { action } from '../action.ts';
import { integer, port, positive } from '../parse.ts';

export function registerEngineCommand(program: Command): void {
  program
    .command('engine')
    .description('run the embedded Livy-compatible engine (sessions of kind sql, in DuckDB) until SIGTERM')
    .option('--port <n>', 'port to listen on, 0 to 65535 (0 picks a free one)', port, 8998)
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option('--max-sessions <n>', 'sessions plus running batches at once (1 or more)', positive('--max-sessions'))
    .option('--memory-limit <size>', `DuckDB memory limit: ${MEMORY_LIMIT_FORMS}; half the machine by default (spills to disk beyond it)`, memoryLimit)
    .option('--idle-timeout <duration>', "stop after this long with no open session, no running batch and no HTTP request, e.g. '30m'; off by default", idleTimeout)
    .option('--csrf', 'reject POST/DELETE without X-Requested-By, as Livy with CSRF protection does')
    .option('--home <dir>', "the engine's own folder (spill files); default $ORCH_HOME/engine")
    .option('--token-file <file>', 'require this bearer token (the file holds it; or ORCH_ENGINE_TOKEN); needed beyond 127.0.0.1 unless basic auth is set')
    .option('--auth-user <name>', 'require HTTP basic auth as this user (or ORCH_ENGINE_USER), with --auth-password-file')
    .option('--auth-password-file <file>', 'the basic-auth password, in a file (or ORCH_ENGINE_PASSWORD)')
    .action(
      action(async (opts: { port: number; host: string; maxSessions?: number; memoryLimit?: string; idleTimeout?: string; csrf?: boolean; home?: string; tokenFile?: string; authUser?: string; authPasswordFile?: string }) => {
        // Loaded here so other commands do not pay for DuckDB at startup.
        const { runEngineCommand } = await import('../../engine/index.ts');
        const { tokenFile, authUser, authPasswordFile, ...rest } = opts;
        return runEngineCommand({ ...rest, authFrom: { tokenFile, authUser, authPasswordFile } });
      }),
    );
}

/** `--memory-limit`: a size DuckDB accepts, or a share of the machine (the same check DAG files get). */
function memoryLimit(v: string): string {
  const problem = memoryLimitProblem(v);
  if (problem) throw new InvalidArgumentError(`--memory-limit: ${problem}`);
  return v;
}

/** `--idle-timeout`: checked by the engine's own parser. */
function idleTimeout(v: string): string {
  try {
    idleTimeoutMs(v);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return v;
}
