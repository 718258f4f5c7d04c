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

export interface GlobalOptions {
  dagsFolder?: string;
}

type Register = (program: Command, global: () => GlobalOptions) => void;

/**
 * Each top-level command and the module that declares it. A command loads only its own
 * module and what that imports, so `orch dags list` never loads the web server, the Livy
 * client or DuckDB; help and unknown commands load them all.
 */
const COMMAND_MODULES: Record<string, () => Promise<Register>> = {
  dags: async () => (await import('./commands/dags.ts')).registerDagCommands,
  run: async () => (await import('./commands/run.ts')).registerRunCommands,
  runs: async () => (await import('./commands/runs.ts')).registerRunsCommands,
  logs: async () => (await import('./commands/logs.ts')).registerLogsCommand,
  tasks: async () => (await import('./commands/tasks-test.ts')).registerTasksCommands,
  scheduler: async () => (await import('./commands/scheduler.ts')).registerSchedulerCommand,
  web: async () => (await import('./commands/web.ts')).registerWebCommands,
  engine: async () => (await import('./commands/engine.ts')).registerEngineCommand,
  sample: async () => (await import('./commands/sample.ts')).registerSampleCommand,
  emr: async () => (await import('./commands/emr.ts')).registerEmrCommands,
};
/** Commands declared by another command's module. */
const SAME_MODULE: Record<string, string> = { trigger: 'run', standalone: 'web' };
/** Commands that scan the DAGs folder first thing: their import worker starts while they load. */
const SCANS_DAGS: ReadonlySet<string> = new Set(['dags', 'run', 'trigger', 'tasks', 'scheduler', 'web', 'standalone']);

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
  'ORCH_EMR_SETTINGS',
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
  for (const register of await commandModules(argv)) register(program, global);
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

/** The modules that declare the command in `argv`, or all of them when it names none we know. */
async function commandModules(argv: string[]): Promise<Register[]> {
  const name = commandName(argv.slice(2));
  if (name && SCANS_DAGS.has(name)) (await import('../core/dags/probe.ts')).prewarmImportWorker();
  const known = name && (SAME_MODULE[name] ?? name);
  if (known && COMMAND_MODULES[known]) return [await COMMAND_MODULES[known]()];
  return Promise.all(Object.values(COMMAND_MODULES).map((load) => load()));
}

/** The first word of `args` that is not a global option or its value. */
function commandName(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--dags-folder') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
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
