/**
 * Opens the SQLite file: WAL so the scheduler, the web server and CLI commands can share
 * it, a busy timeout so writers queue instead of failing, and the migrations. Nothing is
 * written to a file whose schema is current, so commands that only read work on a
 * read-only file.
 */
import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * The statement for `sql` on `db`, compiled on first use and kept: compiling costs more than
 * running most of orch's statements. Callers must not change a returned statement's modes
 * (pluck, raw), since every caller of the same text shares it.
 */
export function prepared(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}

/** Something a user should know about the file that was opened (printed by the CLI, logged by the scheduler). */
export type DbNotice = { kind: 'emptied'; file: string };

export interface OpenOptions {
  /**
   * SQLite's `synchronous` in WAL mode. NORMAL (default): a commit survives orch being
   * killed, and costs no flush to disk; the last commits before a power loss or OS crash can
   * be lost (never corrupting the file). FULL: a flush per commit, so they survive that too.
   */
  synchronous?: 'NORMAL' | 'FULL';
}

/** Open (creating if needed) and migrate the database at `file`. */
export function openDb(file: string, options: OpenOptions = {}): { db: Db; notices: DbNotice[] } {
  const notices: DbNotice[] = [];
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
    // A zero-byte file opens as a brand-new database; if it held a run history, that is gone.
    // (Fresh files are zero bytes for a moment while another process creates them: not those.)
    const st = statSync(file, { throwIfNoEntry: false });
    if (st?.isFile() && st.size === 0 && Date.now() - st.mtimeMs > 2_000) notices.push({ kind: 'emptied', file });
  }
  const db = new Database(file);
  try {
    // Setting WAL writes only when the file is not in WAL mode yet.
    if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return { db, notices };
}

/** Thrown when the file's schema is newer than this orch knows. */
export class SchemaTooNewError extends Error {
  readonly code = 'ORCH_DB_TOO_NEW';
  constructor(readonly version: number) {
    super(`its schema version ${version} is newer than this orch understands (${MIGRATIONS.length}); upgrade orch, or use another ORCH_HOME`);
  }
}

function migrate(db: Db): void {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  // Read first, without a write lock: an up-to-date file needs no write, so a reader can
  // use a read-only file, and commands do not queue behind a busy scheduler for nothing.
  const seen = version();
  if (seen > MIGRATIONS.length) throw new SchemaTooNewError(seen);
  if (seen === MIGRATIONS.length) return;
  // IMMEDIATE: two processes opening a new file at once must not both migrate it.
  db.transaction(() => {
    const current = version();
    if (current > MIGRATIONS.length) throw new SchemaTooNewError(current);
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    if (current !== MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
