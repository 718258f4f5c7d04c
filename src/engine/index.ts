/**
 * The embedded engine: a Livy-compatible REST server whose sessions run kind `sql` in DuckDB.
 * It is what the `embedded` backend spawns as `orch engine`, and what every Livy test talks to.
 *
 * @example
 * const engine = await startEngine({ port: 0, home: '.orch/engine' });
 * // POST `${engine.url}/sessions` {"kind":"sql"} … as with any Livy server
 * await engine.close();
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Duration } from '../sdk/types.ts';
import { openDatabase } from './duckdb.ts';
import { DEFAULT_SETTINGS, Engine } from './engine.ts';
import { EngineStartError } from './errors.ts';
import { IdleWatch, idleTimeoutMs } from './idle.ts';
import { resolveMemoryLimit } from './memory.ts';
import { createEngineServer } from './server.ts';
import { EngineAuthError, isLoopbackHost, requireAuthBeyondLoopback, resolveEngineAuth, type AuthSources, type EngineAuth } from './auth.ts';

export { EngineStartError } from './errors.ts';
export { EngineAuthError, resolveEngineAuth, type AuthSources, type EngineAuth } from './auth.ts';

export interface EngineOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Sessions plus running batches allowed at once; 10 by default. */
  maxSessions?: number;
  /** DuckDB `memory_limit`, e.g. `2GB`, or a share of the machine's memory, e.g. `25%`; half of it when unset. */
  memoryLimit?: string;
  /** Reject POST/DELETE without `X-Requested-By`, as Livy with CSRF protection does (always on beyond loopback). */
  csrf?: boolean;
  /** Who may call it (a token, or basic credentials); required to listen beyond loopback. */
  auth?: EngineAuth;
  /** The engine's own folder; DuckDB spills to `<home>/tmp`. Default `$ORCH_HOME/engine`. */
  home?: string;
  /** Lines kept per stream in each session log (Livy's `livy.spark.logs.size`, 200). */
  logLinesPerStream?: number;
  /** Stop after this long with no open session, no running batch and no HTTP request (`30m`, `2h`); off when unset or 0. */
  idleTimeout?: Duration | string;
}

export interface RunningEngine {
  /** Base URL, e.g. `http://127.0.0.1:8998`. */
  url: string;
  /** Stop every session (interrupting its query), close DuckDB, stop listening. */
  close(): Promise<void>;
  /** Resolves, with why, when the idle timeout has passed; never when it is off. */
  idle: Promise<string>;
}

/** Start the engine and resolve once it listens. */
export async function startEngine(options: EngineOptions = {}): Promise<RunningEngine> {
  requireAuthBeyondLoopback(options.host ?? '127.0.0.1', options.auth);
  const home = resolve(options.home ?? join(process.env.ORCH_HOME ?? '.orch', 'engine'));
  const maxSessions = options.maxSessions ?? DEFAULT_SETTINGS.maxSessions;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) throw new EngineStartError(`--max-sessions must be a positive integer, got ${maxSessions}`);
  let idleMs = 0;
  try {
    if (options.idleTimeout !== undefined) idleMs = idleTimeoutMs(options.idleTimeout);
  } catch (error) {
    throw new EngineStartError((error as Error).message, { cause: error });
  }
  try {
    await mkdir(home, { recursive: true });
  } catch (error) {
    throw new EngineStartError(`cannot create its folder ${home}: ${(error as Error).message}`, { cause: error });
  }
  let memoryLimit: string;
  try {
    memoryLimit = resolveMemoryLimit(options.memoryLimit);
  } catch (error) {
    throw new EngineStartError((error as Error).message, { cause: error });
  }
  let db;
  try {
    db = await openDatabase(home, memoryLimit);
  } catch (error) {
    throw new EngineStartError(`DuckDB refused its settings (--memory-limit ${options.memoryLimit ?? memoryLimit}): ${(error as Error).message}`, { cause: error });
  }
  const engine = new Engine(db, {
    ...DEFAULT_SETTINGS,
    maxSessions,
    memoryLimit,
    logLinesPerStream: options.logLinesPerStream ?? DEFAULT_SETTINGS.logLinesPerStream,
  });
  const label = typeof options.idleTimeout === 'number' ? `${options.idleTimeout} ms` : String(options.idleTimeout);
  const watch = idleMs > 0 ? new IdleWatch(idleMs, () => engine.hasWork(), label) : undefined;
  const host = options.host ?? '127.0.0.1';
  // Beyond this machine, a browser page could be made to post to it too: CSRF protection is on.
  const app = createEngineServer(engine, { csrf: (options.csrf ?? false) || !isLoopbackHost(host), auth: options.auth, activity: watch });
  try {
    await app.listen({ port: options.port ?? 0, host });
  } catch (error) {
    watch?.stop();
    await engine.close();
    throw new EngineStartError(`cannot listen on ${host}:${options.port ?? 0}: ${(error as Error).message}`, { cause: error });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    close: () =>
      (closing ??= (async () => {
        watch?.stop();
        // Sessions first: a DELETE waiting on a query must finish before the server closes.
        await engine.close();
        await app.close();
      })()),
    idle: watch?.expired ?? new Promise<string>(() => {}),
  };
}

export interface EngineCommandIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Where SIGTERM/SIGINT come from; the process by default. */
  signals: NodeJS.EventEmitter;
}

/**
 * `orch engine`: start, print `orch engine listening on <url>` as one line on stdout, and run
 * until SIGTERM, SIGINT or the idle timeout, then close every DuckDB connection. Resolves to
 * the exit code.
 */
export async function runEngineCommand(
  options: EngineOptions & { authFrom?: AuthSources },
  io: EngineCommandIO = { stdout: process.stdout, stderr: process.stderr, signals: process },
): Promise<number> {
  let engine: RunningEngine;
  try {
    const { authFrom, ...rest } = options;
    engine = await startEngine({ ...rest, auth: rest.auth ?? resolveEngineAuth(authFrom ?? {}) });
  } catch (error) {
    // One line with the stable code, as every orch command reports its errors.
    const code = (error as { code?: unknown }).code;
    io.stderr.write(`error ${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}\n`);
    // Asking for a public engine without auth is bad input, like a bad flag.
    return error instanceof EngineAuthError ? 2 : 1;
  }
  // Handlers first, then the line: whoever reads the line may signal us at once.
  const stop = new Promise<string>((resolveStop) => {
    const done = (why: string) => {
      io.signals.off('SIGTERM', onSignal);
      io.signals.off('SIGINT', onSignal);
      resolveStop(why);
    };
    const onSignal = (name: string) => done(name);
    io.signals.on('SIGTERM', onSignal);
    io.signals.on('SIGINT', onSignal);
    void engine.idle.then((reason) => {
      io.stderr.write(`orch engine stopping: ${reason}\n`);
      done('idle timeout');
    });
  });
  io.stdout.write(`orch engine listening on ${engine.url}\n`);
  const received = await stop;
  await engine.close();
  io.stderr.write(`orch engine stopped (${received})\n`);
  return 0;
}
