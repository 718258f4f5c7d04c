/**
 * A batch: the engine's `spark-submit`. `file` names a local `.sql` file; its statements run
 * in order on a connection of their own, logging each one the way a driver would, and the
 * last statement's result is printed to stdout. States follow Livy's batch states:
 * `starting` → `running` → `success` | `dead`, or `killed` when deleted or shut down.
 */
import { readFile } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { describeError, interruptUntil, isBlank, runSql } from './duckdb.ts';
import type { ConnectionSource } from './engine.ts';
import { okOutput } from './format.ts';
import { SessionLog } from './log-ring.ts';
import type { Tracked } from './registry.ts';
import type { CreateBatchBody } from './requests.ts';

export type BatchState = 'starting' | 'running' | 'success' | 'dead' | 'killed';

/** One batch: its state, its log, and the connection running its file. */
export class BatchJob implements Tracked {
  state: BatchState = 'starting';
  readonly log: SessionLog;
  readonly name: string | null;
  readonly appId = `local-${Date.now()}`;
  finishedAt: number | undefined;
  private connection: DuckDBConnection | undefined;
  private work: Promise<void> = Promise.resolve();
  private workDone = false;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly id: number,
    private readonly request: CreateBatchBody,
    private readonly path: string,
    logLinesPerStream: number,
    private readonly connections: ConnectionSource,
  ) {
    this.name = request.name ?? null;
    this.log = new SessionLog(logLinesPerStream);
  }

  /** Start running the file in the background; its connection is closed as soon as it ends. */
  start(): void {
    this.work = this.run().finally(() => {
      this.workDone = true;
      this.closeConnection();
    });
  }

  private async run(): Promise<void> {
    this.log.info(`batch ${this.id}: submitting ${this.path}`);
    let code: string;
    try {
      code = await readFile(this.path, 'utf8');
      this.connection = await this.connections.open();
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `file not found: ${this.path}` : String(error);
      this.log.error(`batch ${this.id} failed: ${reason}`);
      return this.end('dead');
    }
    if (this.stopping) return;
    this.state = 'running';
    try {
      await this.runStatements(this.connection, code);
      if (this.state === 'running') {
        this.log.info(`batch ${this.id} finished successfully`);
        this.end('success');
      }
    } catch (error) {
      if (this.state !== 'running') return;
      const { ename, evalue, traceback } = describeError(error, code);
      this.log.error([`batch ${this.id} failed: ${ename}: ${evalue}`, ...traceback].join('\n'));
      this.end('dead');
    }
  }

  private async runStatements(connection: DuckDBConnection, code: string): Promise<void> {
    if (isBlank(code)) {
      this.log.info('the file has no statements');
      return;
    }
    const table = await runSql(connection, code, ({ index, count, rows, more }) => {
      this.log.info(`statement ${index + 1}/${count} done: ${rows}${more ? '+' : ''} rows`);
    });
    // Like a driver's `df.show()`: the last result goes to stdout.
    this.log.raw(okOutput(0, table).data['text/plain']);
  }

  /** Stop the batch: interrupt its query, close its connection; it ends `killed`. */
  stop(finalState: 'dead' | 'killed' = 'killed'): Promise<void> {
    this.stopping ??= (async () => {
      const wasRunning = this.finishedAt === undefined;
      if (wasRunning) this.end(finalState === 'dead' ? 'killed' : finalState);
      if (this.connection) interruptUntil(this.connection, () => this.workDone);
      await this.work;
      if (wasRunning) this.log.info(`batch ${this.id} killed`);
    })();
    return this.stopping;
  }

  private closeConnection(): void {
    if (this.connection) this.connections.close(this.connection);
    this.connection = undefined;
  }

  private end(state: BatchState): void {
    this.state = state;
    this.finishedAt = Date.now();
  }

  /** Batches have no heartbeat in Livy. */
  heartbeat(): void {}

  /** Batches are not timed out; they end on their own or by DELETE. */
  expiry(): string | undefined {
    return undefined;
  }

  /** Livy's batch JSON. */
  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      name: this.name,
      owner: null,
      proxyUser: this.request.proxyUser ?? null,
      state: this.state,
      appId: this.appId,
      appInfo: { driverLogUrl: null, sparkUiUrl: null },
      log: this.log.tail(10),
    };
  }
}
