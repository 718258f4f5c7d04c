/**
 * Live updates for every browser, whichever process made the change (this one, `orch
 * scheduler`, a CLI command): triggers write each change to `change_log`, and a connection
 * of the feed's own polls `PRAGMA data_version` — which moves when any other connection
 * commits, and costs microseconds — reading new changes and log lines only then. Each
 * change is sent once per burst as the current row (coalesced), to the clients whose
 * filter it matches; event ids are change seqs, so `Last-Event-ID` resumes.
 */
import Database from 'better-sqlite3';
import type { Logger } from '../core/logging.ts';
import { Store, type ChangeRow, type TiKey } from '../store/index.ts';
import { STATEMENT } from '../operators/livy/session.ts';
import { handleView, runView, taskView, tryView } from './views.ts';

export interface FeedFilter {
  dagId?: string;
  runId?: string;
  /** Stream this try's new log lines, after line id `cursor`. */
  log?: { key: TiKey; tryNumber: number; cursor?: number };
}

export interface FeedEvent {
  event: 'dag' | 'run' | 'task' | 'try' | 'handle' | 'log' | 'dags';
  id: string;
  data: unknown;
}

interface Client {
  filter: FeedFilter;
  logCursor: number;
  send(e: FeedEvent): void;
  end(): void;
}

interface Pending {
  seq: number;
  event: Exclude<FeedEvent['event'], 'log' | 'dags'>;
  dagId: string;
  runId: string | null;
  /** Built once for every client, when the first one needs it; undefined when the row is gone. */
  data: () => unknown;
}

/** Log lines per `log` event. */
const LOG_BATCH = 500;

export class ChangeFeed {
  private readonly db: Database.Database;
  private readonly store: Store;
  private readonly dataVersion: Database.Statement;
  private readonly clients = new Set<Client>();
  private readonly timer: NodeJS.Timeout;
  private seq: number;
  private version: number;
  private failing = false;

  constructor(dbFile: string, pollMs = 25, private readonly logger?: Logger) {
    this.db = new Database(dbFile, { fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.store = new Store(this.db);
    this.dataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.version = this.dataVersion.get() as number;
    this.seq = this.store.changes.latest();
    this.timer = setInterval(() => this.poll(), pollMs);
    this.timer.unref();
  }

  /** The newest change this feed has sent. */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Add a client; returns its unsubscribe. With `lastEventId` it first gets what it missed
   * (coalesced), else it starts at the present; a log subscription starts at its cursor,
   * the one in `lastEventId`, or the end of the try's log.
   */
  subscribe(filter: FeedFilter, send: (e: FeedEvent) => void, end: () => void, lastEventId?: string): () => void {
    const resume = /^(\d+)(?:-(\d+))?$/.exec(lastEventId ?? '');
    const log = filter.log;
    const logCursor = resume?.[2] !== undefined ? Number(resume[2]) : (log?.cursor ?? (log ? this.store.logs.lastId(log.key, log.tryNumber) : 0));
    const client: Client = { filter, logCursor, send, end };
    if (resume) {
      for (let from = Number(resume[1]); from < this.seq; ) {
        const rows = this.store.changes.after(from, 5_000).filter((r) => r.seq <= this.seq);
        if (!rows.length) break;
        this.dispatch(this.coalesce(rows), [client]);
        from = rows.at(-1)!.seq;
      }
    }
    this.clients.add(client);
    if (log) this.sendLogs(client);
    return () => this.clients.delete(client);
  }

  /** Tell every client the DAG folder changed. */
  broadcastDags(): void {
    for (const c of this.clients) c.send({ event: 'dags', id: this.idFor(c), data: {} });
  }

  /** Look for commits by other connections; read and send what they changed. */
  poll(): void {
    try {
      const version = this.dataVersion.get() as number;
      if (version === this.version) return;
      if (!this.clients.size) this.seq = this.store.changes.latest();
      for (;;) {
        const rows = this.clients.size ? this.store.changes.after(this.seq, 5_000) : [];
        if (!rows.length) break;
        this.seq = rows.at(-1)!.seq;
        this.dispatch(this.coalesce(rows), [...this.clients]);
      }
      for (const c of this.clients) if (c.filter.log) this.sendLogs(c);
      this.version = version;
      this.failing = false;
    } catch (err) {
      // A locked or busy database: the version is left as it was, so the next poll reads again.
      if (!this.failing) this.logger?.warn({ err }, 'the change feed could not read the database; retrying');
      this.failing = true;
    }
  }

  /** End every stream (the server is closing) and the feed's connection. */
  close(): void {
    clearInterval(this.timer);
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.db.close();
  }

  private idFor(c: Client): string {
    return c.filter.log ? `${this.seq}-${c.logCursor}` : String(this.seq);
  }

  /** One entry per changed row (its last seq), oldest first; a statement's progress also updates its task. */
  private coalesce(rows: ChangeRow[]): Pending[] {
    const latest = new Map<string, ChangeRow & { as?: 'task' }>();
    for (const r of rows) {
      const key = r.kind === 'task' ? `task|${r.dagId}|${r.runId}|${r.taskId}` : `${r.kind}|${r.dagId}|${r.runId}|${r.taskId}|${r.tryNumber}|${r.ref}`;
      latest.delete(key);
      latest.set(key, r);
    }
    const out: Pending[] = [];
    for (const r of [...latest.values()].sort((a, b) => a.seq - b.seq)) {
      const p = this.pending(r);
      if (p) out.push(p);
    }
    return out;
  }

  private pending(r: ChangeRow): Pending | undefined {
    const { dagId, runId, taskId, seq } = r;
    const once = (build: () => unknown) => {
      let built: { v: unknown } | undefined;
      return () => (built ??= { v: build() }).v;
    };
    if (r.kind === 'dag') return { seq, event: 'dag', dagId, runId: null, data: once(() => ({ dagId, isPaused: this.store.dags.isPaused(dagId) })) };
    if (!runId) return undefined;
    if (r.kind === 'run') return { seq, event: 'run', dagId, runId, data: once(() => this.runData(dagId, runId)) };
    if (!taskId) return undefined;
    const key = { dagId, runId, taskId };
    if (r.kind === 'task') return { seq, event: 'task', dagId, runId, data: once(() => this.taskData(key)) };
    if (r.kind === 'try') {
      return { seq, event: 'try', dagId, runId, data: once(() => {
        const t = this.store.tis.tries(key).find((x) => x.tryNumber === r.tryNumber);
        return t && { dagId, runId, ...tryView(t) };
      }) };
    }
    return { seq, event: 'handle', dagId, runId, data: once(() => {
      const h = r.ref === null ? undefined : this.store.handles.getById(r.ref);
      return h && { dagId, runId, taskId, ...handleView(h) };
    }) };
  }

  private runData(dagId: string, runId: string): unknown {
    const run = this.store.runs.get(dagId, runId);
    return run && runView(run);
  }

  private taskData(key: TiKey): unknown {
    const ti = this.store.tis.get(key);
    return ti && { dagId: key.dagId, runId: key.runId, ...taskView(ti, this.store.handles.listForTask(key, { kind: STATEMENT, includeReleased: true })) };
  }

  private dispatch(pending: Pending[], clients: Client[]): void {
    for (const p of pending) {
      for (const c of clients) {
        const { dagId, runId } = c.filter;
        if (dagId && p.dagId !== dagId) continue;
        if (runId && p.runId !== null && p.runId !== runId) continue;
        const data = p.data();
        if (data === undefined) break;
        const id = c.filter.log ? `${p.seq}-${c.logCursor}` : String(p.seq);
        c.send({ event: p.event, id, data });
        // A statement's progress is shown on its task too.
        if (p.event === 'handle' && (data as { kind: string }).kind === STATEMENT) {
          const d = data as { taskId: string };
          const task = this.taskData({ dagId: p.dagId, runId: p.runId!, taskId: d.taskId });
          if (task) c.send({ event: 'task', id, data: task });
        }
      }
    }
  }

  /** Send the client's try's lines after its cursor, in batches. */
  private sendLogs(c: Client): void {
    const log = c.filter.log!;
    for (;;) {
      const rows = this.store.logs.read(log.key, log.tryNumber, c.logCursor, LOG_BATCH);
      if (!rows.length) return;
      c.logCursor = rows.at(-1)!.id;
      const lines = rows.map((r) => ({ id: r.id, ts: r.ts, level: r.level, source: r.source, message: r.message }));
      c.send({ event: 'log', id: this.idFor(c), data: { ...log.key, tryNumber: log.tryNumber, lines } });
      if (rows.length < LOG_BATCH) return;
    }
  }
}
