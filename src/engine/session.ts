/**
 * An interactive session of kind `sql`: one DuckDB connection, statements run one at a time
 * in the order they were posted (sessions run in parallel with each other). States follow
 * Livy: `starting` → `idle` ⇄ `busy` → `shutting_down` → `dead` (DELETE), or `killed` when the
 * engine shuts down, or `dead` when the connection cannot start or DuckDB fails fatally.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { applySetting, describeError, interruptUntil, isFatal, prepareConnection, queryProgress, runSql } from './duckdb.ts';
import type { ConnectionSource } from './engine.ts';
import { okOutput } from './format.ts';
import type { Output } from './format.ts';
import { illegalState } from './http-errors.ts';
import { SessionLog } from './log-ring.ts';
import type { Tracked } from './registry.ts';
import type { CreateSessionBody } from './requests.ts';
import { Statement } from './statement.ts';

export type SessionState =
  | 'not_started' | 'starting' | 'recovering' | 'idle' | 'running' | 'busy'
  | 'shutting_down' | 'error' | 'dead' | 'killed' | 'success';

/** Livy keeps only the last 100 statements of a session. */
export const STATEMENTS_KEPT = 100;

export interface SessionSettings {
  request: CreateSessionBody;
  /** ms; 0 = never. Livy's `heartbeatTimeoutInSecond`. */
  heartbeatTimeoutMs: number;
  /** ms; undefined = never. Livy's `ttl` / `idleTimeout`. */
  idleTimeoutMs: number | undefined;
  logLinesPerStream: number;
  connections: ConnectionSource;
}

/** One `sql` session: its state, its statements, its log, its DuckDB connection. */
export class InteractiveSession implements Tracked {
  state: SessionState = 'starting';
  readonly log: SessionLog;
  readonly name: string | null;
  /** Spark's local-mode app id format; unique per engine run, so reattach can tell sessions apart. */
  readonly appId = `local-${Date.now()}`;
  finishedAt: number | undefined;
  private readonly statements: Statement[] = [];
  private readonly queue: Statement[] = [];
  private nextStatementId = 0;
  private connection: DuckDBConnection | undefined;
  private booting: Promise<void> = Promise.resolve();
  private draining: Promise<void> = Promise.resolve();
  private pumping = false;
  private running: Statement | undefined;
  private stopping: Promise<void> | undefined;
  private lastHeartbeat = Date.now();
  private lastActivity = Date.now();

  constructor(
    readonly id: number,
    private readonly settings: SessionSettings,
  ) {
    this.name = settings.request.name ?? null;
    this.log = new SessionLog(settings.logLinesPerStream);
  }

  /** Open the connection and apply `conf`; the session is `idle` when done, `dead` if that fails. */
  start(): void {
    this.booting = this.boot();
  }

  private async boot(): Promise<void> {
    this.log.info(`session ${this.id} starting (kind sql, DuckDB SQL dialect)`);
    let connection: DuckDBConnection | undefined;
    try {
      connection = await this.settings.connections.open();
      if (this.state !== 'starting') return connection.closeSync();
      await prepareConnection(connection);
      for (const [key, value] of Object.entries(this.settings.request.conf ?? {})) {
        if (key.startsWith('duckdb.')) {
          await applySetting(connection, key.slice('duckdb.'.length), value);
          this.log.info(`conf ${key}=${value} applied`);
        } else {
          this.log.info(`conf ${key} ignored: the embedded engine is not Spark`);
        }
      }
      if (this.state !== 'starting') return connection.closeSync();
      this.connection = connection;
      this.state = 'idle';
      this.log.info(`session ${this.id} is idle`);
    } catch (error) {
      connection?.closeSync();
      if (this.state !== 'starting') return;
      this.log.error(`session ${this.id} failed to start: ${error instanceof Error ? error.message : String(error)}`);
      this.end('dead');
    }
  }

  /** Queue a statement. Livy: only an idle or busy session takes statements, else a 500. */
  submit(code: string): Statement {
    if (this.state !== 'idle' && this.state !== 'busy') throw illegalState(this.state);
    const statement = new Statement(this.nextStatementId++, code);
    this.statements.push(statement);
    if (this.statements.length > STATEMENTS_KEPT) this.statements.shift();
    this.queue.push(statement);
    this.lastActivity = Date.now();
    this.log.info(`statement ${statement.id} submitted`);
    if (!this.pumping) {
      this.pumping = true;
      this.draining = this.drain();
    }
    return statement;
  }

  /** The statements kept (the last 100), oldest first. */
  list(): readonly Statement[] {
    return this.statements;
  }

  /** A kept statement by id. */
  statement(id: number): Statement | undefined {
    return this.statements.find((s) => s.id === id);
  }

  /** Cancel: a waiting statement is dropped, a running one is interrupted. Unknown ids are a no-op, as in Livy. */
  cancel(id: number): void {
    const statement = this.statement(id);
    if (!statement) return;
    this.lastActivity = Date.now();
    if (statement.state === 'waiting') {
      this.queue.splice(this.queue.indexOf(statement), 1);
      statement.cancelWaiting();
      this.log.info(`statement ${id} cancelled before it ran`);
    } else if (statement.state === 'running') {
      statement.cancelling();
      this.log.info(`statement ${id} cancelling: interrupting the query`);
      if (this.connection) interruptUntil(this.connection, () => statement.finished);
    }
  }

  /** Run queued statements in order until the queue is empty or the session stops. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && (this.state === 'idle' || this.state === 'busy')) {
        this.state = 'busy';
        await this.execute(this.queue.shift()!);
        if (this.state === 'busy' && this.queue.length === 0) this.state = 'idle';
      }
    } finally {
      // Cleared synchronously as the loop ends, so a statement submitted next starts a new loop.
      this.pumping = false;
    }
  }

  private async execute(statement: Statement): Promise<void> {
    const connection = this.connection!;
    this.running = statement;
    statement.begin(() => queryProgress(connection));
    this.log.info(`statement ${statement.id} running`);
    let output: Output;
    let fatal = false;
    try {
      const table = await runSql(connection, statement.code);
      output = okOutput(statement.id, table);
      this.log.info(`statement ${statement.id} available: ${table.rows.length}${table.truncated ? '+' : ''} rows in ${Date.now() - statement.started} ms`);
    } catch (error) {
      output = { status: 'error', execution_count: statement.id, ...describeError(error, statement.code) };
      fatal = isFatal(error);
      if (statement.state !== 'cancelling') this.log.error(`statement ${statement.id} failed: ${output.ename}: ${output.evalue}`);
    } finally {
      this.running = undefined;
    }
    statement.finish(output);
    if (statement.state === 'cancelled') this.log.info(`statement ${statement.id} cancelled`);
    this.lastActivity = Date.now();
    if (fatal && this.state === 'busy') {
      this.log.error(`session ${this.id} is dead: DuckDB cannot continue after this error`);
      this.end('dead');
    }
  }

  /** Stop: cancel queued statements, interrupt the running one, close the connection. */
  stop(finalState: 'dead' | 'killed' = 'dead'): Promise<void> {
    this.stopping ??= (async () => {
      if (this.finishedAt === undefined) this.state = 'shutting_down';
      for (const statement of this.queue.splice(0)) statement.cancelWaiting();
      const running = this.running;
      if (running) {
        running.cancelling();
        if (this.connection) interruptUntil(this.connection, () => running.finished);
      }
      await this.booting;
      await this.draining;
      if (this.connection) this.settings.connections.close(this.connection);
      this.connection = undefined;
      if (this.finishedAt === undefined) this.end(finalState);
      this.log.info(`session ${this.id} stopped (${this.state})`);
    })();
    return this.stopping;
  }

  private end(state: 'dead' | 'killed'): void {
    this.state = state;
    this.finishedAt = Date.now();
    for (const statement of this.queue.splice(0)) statement.cancelWaiting();
  }

  /** A client looked at the session (Livy's heartbeat). */
  heartbeat(): void {
    this.lastHeartbeat = Date.now();
  }

  /** Livy's `heartbeatTimeoutInSecond` and `ttl`/`idleTimeout`: why to delete it now, if at all. */
  expiry(now: number): string | undefined {
    const { heartbeatTimeoutMs, idleTimeoutMs } = this.settings;
    if (heartbeatTimeoutMs > 0 && now - this.lastHeartbeat > heartbeatTimeoutMs) {
      return `no client asked about it for ${heartbeatTimeoutMs / 1000} s (heartbeatTimeoutInSecond)`;
    }
    if (idleTimeoutMs !== undefined && this.state === 'idle' && now - this.lastActivity > idleTimeoutMs) {
      return `idle for more than ${idleTimeoutMs} ms (ttl/idleTimeout)`;
    }
    return undefined;
  }

  /** Livy 0.8's SessionInfo: the session plus the fields it was created with. */
  toJSON(): Record<string, unknown> {
    const r = this.settings.request;
    return {
      id: this.id,
      name: this.name,
      appId: this.appId,
      owner: null,
      proxyUser: r.proxyUser ?? null,
      state: this.state,
      kind: 'sql',
      appInfo: { driverLogUrl: null, sparkUiUrl: null },
      log: this.log.tail(10),
      ttl: r.ttl ?? null,
      idleTimeout: r.idleTimeout ?? null,
      driverMemory: r.driverMemory ?? null,
      driverCores: r.driverCores ?? 0,
      executorMemory: r.executorMemory ?? null,
      executorCores: r.executorCores ?? 0,
      conf: r.conf ?? {},
      archives: r.archives ?? [],
      files: r.files ?? [],
      heartbeatTimeoutInSecond: r.heartbeatTimeoutInSecond ?? 0,
      jars: r.jars ?? [],
      numExecutors: r.numExecutors ?? 0,
      pyFiles: r.pyFiles ?? [],
      queue: r.queue ?? null,
    };
  }
}
