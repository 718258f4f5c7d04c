/**
 * The `orch` command. Parses arguments, calls core, prints. Exit codes: 0 success,
 * 1 a run or task failed, 2 bad input (unknown DAG, bad --conf, params rejected, bad config).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { OrchError } from '../errors.ts';
import { takeExitCode } from './action.ts';
import { registerDagCommands } from './commands/dags.ts';
import { registerEngineCommand } from './commands/engine.ts';
import { registerSampleCommand } from './commands/sample.ts';
import { registerLogsCommand } from './commands/logs.ts';
import { registerRunCommands } from './commands/run.ts';
import { registerRunsCommands } from './commands/runs.ts';
import { registerSchedulerCommand } from './commands/scheduler.ts';
import { registerTasksCommands } from './commands/tasks-test.ts';

export interface GlobalOptions {
  dagsFolder?: string;
}

/** Errors that mean "you asked for something wrong" rather than "something broke". */
const INPUT_ERRORS = new Set([
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
  // The database: nothing ran, so nothing failed; the user must fix the file first.
  'ORCH_DB_UNWRITABLE',
  'ORCH_DB_CORRUPT',
  'ORCH_DB_UNOPENABLE',
  'ORCH_DB_TOO_NEW',
]);

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Run the CLI with `argv` (as process.argv); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  // `orch run … | head`: once the reader is gone, stop printing but let the run finish.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.stdout.write = (() => true) as typeof process.stdout.write;
  });
  const program = new Command('orch')
    .description('Airflow-style orchestrator for Spark pipelines over Apache Livy')
    .version(version(), '-V, --version', 'print the orch version')
    .option('--dags-folder <dir>', 'where DAG files are (default ./dags, or ORCH_DAGS_FOLDER)')
    .exitOverride()
    .showHelpAfterError('(run orch --help for usage)');
  const global = () => program.opts<GlobalOptions>();
  registerDagCommands(program, global);
  registerRunCommands(program, global);
  registerRunsCommands(program, global);
  registerLogsCommand(program, global);
  registerTasksCommands(program, global);
  registerSchedulerCommand(program, global);
  registerEngineCommand(program);
  registerSampleCommand(program);
  try {
    await program.parseAsync(argv);
    return takeExitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof OrchError) {
      process.stderr.write(`error: ${err.message}\n`);
      return INPUT_ERRORS.has(err.code) ? 2 : 1;
    }
    process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
