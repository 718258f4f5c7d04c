/**
 * The engine's state behind the HTTP layer: the DuckDB database, the session and batch
 * registries, the limits, and the reaper. Routes get it as a plugin option; nothing here
 * knows about HTTP beyond the Livy reply errors it throws.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { BatchJob } from './batch.ts';
import { msgError } from './http-errors.ts';
import { DEFAULT_LINES_PER_STREAM } from './log-ring.ts';
import { MemoryReleaser, resolveMemoryLimit } from './memory.ts';
import { Registry } from './registry.ts';
import { batchFilePath, parseDuration } from './requests.ts';
import type { CreateBatchBody, CreateSessionBody } from './requests.ts';
import { InteractiveSession } from './session.ts';

export interface EngineSettings {
  /** Sessions plus running batches allowed at once (`--max-sessions`). */
  maxSessions: number;
  /** Lines kept per stream in each session log (Livy's `livy.spark.logs.size`). */
  logLinesPerStream: number;
  /** How often the reaper looks for timed-out sessions. */
  reapIntervalMs: number;
  /** DuckDB `memory_limit` the database was opened with; re-applied to give memory back. */
  memoryLimit: string;
}

/** Where sessions and batches get their DuckDB connection, and hand it back when they end. */
export interface ConnectionSource {
  open(): Promise<DuckDBConnection>;
  /** Close it, and give the memory its queries used back to the system. */
  close(connection: DuckDBConnection): void;
}

export const DEFAULT_SETTINGS: EngineSettings = {
  maxSessions: 10,
  logLinesPerStream: DEFAULT_LINES_PER_STREAM,
  reapIntervalMs: 500,
  memoryLimit: resolveMemoryLimit(undefined),
};

/** The engine behind the routes: database, registries, limits, reaper. */
export class Engine {
  readonly sessions = new Registry<InteractiveSession>();
  readonly batches = new Registry<BatchJob>();
  readonly startedAt = new Date();
  private readonly memory: MemoryReleaser;
  private readonly connections: ConnectionSource;
  private readonly reaper: NodeJS.Timeout;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly db: DuckDBInstance,
    readonly settings: EngineSettings,
    /** How a session gets its connection; tests may wrap it to hold a session in `starting`. */
    connect: () => Promise<DuckDBConnection> = () => db.connect(),
  ) {
    this.memory = new MemoryReleaser(db, settings.memoryLimit);
    this.connections = {
      open: connect,
      close: (connection) => {
        connection.closeSync();
        this.memory.release();
      },
    };
    this.reaper = setInterval(() => void this.reap(), settings.reapIntervalMs);
    this.reaper.unref();
  }

  /** Create and start a session (the request is already validated). */
  createSession(request: CreateSessionBody): InteractiveSession {
    this.checkCapacity();
    if (request.name && this.sessions.byName(request.name)) {
      throw msgError(400, `Duplicate session name: ${request.name} (already used by session ${this.sessions.byName(request.name)!.id})`);
    }
    const idle = request.idleTimeout ?? request.ttl;
    const session = this.sessions.add(
      (id) =>
        new InteractiveSession(id, {
          request,
          heartbeatTimeoutMs: (request.heartbeatTimeoutInSecond ?? 0) * 1000,
          idleTimeoutMs: idle ? parseDuration(idle, request.idleTimeout ? 'idleTimeout' : 'ttl') : undefined,
          logLinesPerStream: this.settings.logLinesPerStream,
          connections: this.connections,
        }),
    );
    session.start();
    return session;
  }

  /** Create and start a batch running a local `.sql` file. */
  createBatch(request: CreateBatchBody): BatchJob {
    const path = batchFilePath(request.file);
    this.checkCapacity();
    if (request.name && this.batches.byName(request.name)) {
      throw msgError(400, `Duplicate session name: ${request.name} (already used by batch ${this.batches.byName(request.name)!.id})`);
    }
    const batch = this.batches.add((id) => new BatchJob(id, request, path, this.settings.logLinesPerStream, this.connections));
    batch.start();
    return batch;
  }

  /** True while a session is open (not yet dead or killed) or a batch runs. */
  hasWork(): boolean {
    return this.liveCount() > 0;
  }

  private liveCount(): number {
    return this.sessions.liveCount() + this.batches.liveCount();
  }

  /** Livy's limit answer, word for word, so clients that match on it keep working. */
  private checkCapacity(): void {
    if (this.liveCount() >= this.settings.maxSessions) {
      throw msgError(400, 'Rejected, too many sessions are being created!');
    }
  }

  private async reap(): Promise<void> {
    const now = Date.now();
    await this.sessions.sweep(now);
    await this.batches.sweep(now);
    this.memory.tick(now);
  }

  /** Stop every session and batch (their queries interrupted), then close the database. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.reaper);
      await Promise.all([this.sessions.stopAll(), this.batches.stopAll()]);
      await this.memory.close();
      this.db.closeSync();
    })();
    return this.closing;
  }
}
