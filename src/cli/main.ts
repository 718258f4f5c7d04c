/**
 * The `orch` command. Parses arguments, calls core, prints. Exit codes: 0 success,
 * 1 a run or task failed, 2 bad input (unknown DAG, bad --conf, params rejected, bad config).
 * Every error line names its stable code: `error ORCH_DAG_NOT_FOUND: …`.
 */
import { Command, CommanderError, Help } from 'commander';
import { OrchError } from '../errors.ts';
import { orchVersion } from '../util/version.ts';
import { databaseFailure } from '../core/database-failure.ts';
import { takeExitCode } from './action.ts';
import { openedDatabase } from './context.ts';
import { registerDagCommands } from './commands/dags.ts';
import { registerEngineCommand } from './commands/engine.ts';
import { registerSampleCommand } from './commands/sample.ts';
import { registerLogsCommand } from './commands/logs.ts';
import { registerRunCommands } from './commands/run.ts';
import { registerRunsCommands } from './commands/runs.ts';
import { registerSchedulerCommand } from './commands/scheduler.ts';
import { registerTasksCommands } from './commands/tasks-test.ts';
import { registerWebCommands } from './commands/web.ts';

export interface GlobalOptions {
  dagsFolder?: string;
}

/** Errors that mean "you asked for something wrong" rather than "something broke": exit 2. */
const INPUT_ERRORS: ReadonlySet<string> = new Set([
  'ORCH_USAGE',
  'ORCH_DAGS_FOLDER_MISSING',
  'ORCH_TRY_NOT_FOUND',
  'ORCH_DAG_NOT_FOUND',
  'ORCH_TASK_NOT_FOUND',
  'ORCH_RUN_NOT_FOUND',
  'ORCH_CONF_INVALID_JSON',
  'ORCH_PARAMS_INVALID',
  'ORCH_CONFIG_INVALID',
  'ORCH_BACKEND_UNKNOWN',
  'ORCH_BACKEND_UNAVAILABLE',
  'ORCH_LIVY_URL_MISSING',
  'ORCH_LIVY_URL_INVALID',
  'ORCH_WEB_AUTH_REQUIRED',
  'ORCH_WEB_PORT_IN_USE',
  // The database: nothing ran, so nothing failed; the user must fix the file first.
  'ORCH_DB_UNWRITABLE',
  'ORCH_DB_CORRUPT',
  'ORCH_DB_UNOPENABLE',
  'ORCH_DB_TOO_NEW',
  'ORCH_DB_LOCKED',
]);

/** Run the CLI with `argv` (as process.argv); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  // `orch run … | head`: once the reader is gone, stop printing but let the run finish.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.stdout.write = (() => true) as typeof process.stdout.write;
  });
  const program = new Command('orch')
    .description('Airflow-style orchestrator for Spark pipelines over Apache Livy')
    .version(orchVersion(), '-V, --version', 'print the orch version')
    .option('--dags-folder <dir>', 'where DAG files are (default ./dags, or ORCH_DAGS_FOLDER)')
    .exitOverride()
    // Commander's own messages (unknown option, missing argument, invalid value) get a code like ours.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'error ORCH_USAGE: ')) })
    .showHelpAfterError('(run orch --help for usage)');
  const global = () => program.opts<GlobalOptions>();
  registerDagCommands(program, global);
  registerRunCommands(program, global);
  registerRunsCommands(program, global);
  registerLogsCommand(program, global);
  registerTasksCommands(program, global);
  registerSchedulerCommand(program, global);
  registerWebCommands(program, global);
  registerEngineCommand(program);
  registerSampleCommand(program);
  showUsageAfterErrors(program);
  try {
    await program.parseAsync(argv);
    return takeExitCode();
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      return thrown.exitCode === 0 ? 0 : 2;
    }
    const err = asDatabaseFailure(thrown);
    if (err instanceof OrchError) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      return INPUT_ERRORS.has(err.code) ? 2 : 1;
    }
    process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

/**
 * An SQLite error that escaped a command (a page found damaged by a query, a write to a
 * read-only file) as the one line naming the database file; any other error unchanged.
 */
function asDatabaseFailure(err: unknown): unknown {
  const file = openedDatabase();
  const code = (err as { code?: unknown } | null)?.code;
  // Only SQLite's own codes: an ENOENT or EACCES escaping a command is about some other file.
  if (!file || typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  return databaseFailure(err, file) ?? err;
}

/** A usage error in a subcommand ends with that command's usage line, not orch's. */
function showUsageAfterErrors(program: Command): void {
  const help = new Help();
  const visit = (cmd: Command, path: string): void => {
    for (const sub of cmd.commands) {
      const name = `${path} ${sub.name()}`;
      sub.showHelpAfterError(`usage: ${help.commandUsage(sub)}\n(run ${name} --help for more)`);
      visit(sub, name);
    }
  };
  visit(program, program.name());
}
