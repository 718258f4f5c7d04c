/**
 * `orch web` (the HTTP API and the UI, beside an `orch scheduler`) and `orch standalone`
 * (the scheduler and the web server in one process). Both listen on 127.0.0.1 unless told
 * otherwise; another address needs auth.
 */
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { loadConfig } from '../../core/config.ts';
import { createLogger, type Logger } from '../../core/logging.ts';
import type { Scheduler } from '../../core/scheduler.ts';
import { DatabaseError, OrchError } from '../../errors.ts';
import { isLoopbackHost } from '../../server/auth.ts';
import { action } from '../action.ts';
import { openContext } from '../context.ts';
import type { GlobalOptions } from '../main.ts';
import { port } from '../parse.ts';

/** A non-loopback address without credentials would hand every run to whoever can reach it. */
export class WebAuthRequiredError extends OrchError {
  constructor(host: string) {
    super(
      'ORCH_WEB_AUTH_REQUIRED',
      `--host ${host} is reachable from other machines, so orch needs auth there: set ORCH_WEB_TOKEN=<a long random secret> (or ORCH_WEB_USERNAME and ORCH_WEB_PASSWORD), or "web": { "auth": { "token": "…" } } in orch.config.json; or listen on 127.0.0.1`,
    );
  }
}

export class WebPortInUseError extends OrchError {
  constructor(host: string, portNumber: number) {
    super('ORCH_WEB_PORT_IN_USE', `port ${portNumber} on ${host} is in use (another orch web?); choose another with --port, or "web": { "port": … } in orch.config.json`);
  }
}

/** How often `orch web` re-reads the DAGs folder (a scheduler in the same process does it in standalone). */
const DAG_REFRESH_MS = 5_000;

type Mode = 'web' | 'standalone';

export function registerWebCommands(program: Command, global: () => GlobalOptions): void {
  const about: Record<Mode, string> = {
    web: 'serve the web UI and the HTTP API (runs start when an `orch scheduler` runs beside it)',
    standalone: 'the scheduler, the web UI and the HTTP API in one process',
  };
  for (const mode of ['web', 'standalone'] as const) {
    program
      .command(mode)
      .description(about[mode])
      .option('--port <n>', 'port to listen on (default 8080, or web.port in orch.config.json; 0 picks a free one)', port)
      .option('--host <address>', 'address to listen on (default 127.0.0.1, or web.host); any other needs auth configured')
      .action(action((opts: { port?: number; host?: string }) => serve(mode, opts, global())));
  }
}

async function serve(mode: Mode, opts: { port?: number; host?: string }, globals: GlobalOptions): Promise<number> {
  const settings = loadConfig(globals).web;
  const host = opts.host ?? settings.host;
  const portNumber = opts.port ?? settings.port;
  // Refused before anything is opened: nothing must listen, even for a moment.
  if (!isLoopbackHost(host) && !settings.auth) throw new WebAuthRequiredError(host);
  const ctx = await openContext(globals, true, true);
  const logger = createLogger();
  for (const e of ctx.dagBag.errors()) logger.error({ file: e.file, code: e.code }, e.message);
  const scheduler = mode === 'standalone' ? await ctx.scheduler(logger) : undefined;
  // Fastify and the UI's routes load only for the commands that serve.
  const { buildServer } = await import('../../server/app.ts');
  const app = await buildServer({
    store: ctx.store,
    dagBag: ctx.dagBag,
    auth: settings.auth,
    dagRefreshMs: scheduler ? 0 : DAG_REFRESH_MS,
    kick: scheduler && (() => kick(scheduler, logger)),
    onCancelRequested: scheduler && ((dagId, runId) => void scheduler.cancel(dagId, runId, 'cancelled from the web UI')),
    logger,
  });
  try {
    await app.listen({ host, port: portNumber });
  } catch (err) {
    await app.close();
    ctx.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new WebPortInUseError(host, portNumber);
    throw err;
  }
  const { port: bound } = app.server.address() as AddressInfo;
  process.stdout.write(`orch ${mode}: http://${host.includes(':') ? `[${host}]` : host}:${bound}\n`);

  const stop = new AbortController();
  const onSignal = (sig: string) => {
    logger.info(
      scheduler
        ? `${sig}: draining — no new tasks start; Livy statements, batches and clusters keep running and are followed by the next orch process; function tasks get a grace period; then leases are released and the web server stops`
        : `${sig}: stopping the web server`,
    );
    stop.abort();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  logger.info({ dags: ctx.dagBag.ids(), folder: ctx.config.dagsFolder, db: ctx.config.dbFile }, `orch ${mode} started (pid ${process.pid})`);
  try {
    if (scheduler) await scheduler.serve(stop.signal);
    else await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    logger.info(`orch ${mode} stopped`);
    return 0;
  } catch (err) {
    if (!(err instanceof DatabaseError)) throw err;
    setTimeout(() => process.exit(1), 5_000).unref();
    process.stderr.write(`error ${err.code}: ${err.message}\nthe runs it was driving are left unfinished; once the database is usable, \`orch standalone\` (or \`orch scheduler\`) resumes them\n`);
    return 1;
  } finally {
    await app.close();
    ctx.close();
  }
}

/** Start what the API just queued or reopened now, not at the next tick; a failure is left to that tick. */
function kick(scheduler: Scheduler, logger: Logger): void {
  try {
    scheduler.tick();
  } catch (err) {
    logger.warn({ err }, 'could not start the run at once; the next scheduler tick does');
  }
}
