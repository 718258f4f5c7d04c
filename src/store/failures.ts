/**
 * Which SQLite errors mean "this database file cannot be used", as opposed to a bug or a
 * constraint: a read-only file or folder, a full disk, an I/O error, a corrupt file. The
 * scheduler stops on these instead of retrying a write every heartbeat forever.
 */

/** What is wrong with the database file, or undefined for errors that are not about the file. */
export type StoreFailureKind = 'unwritable' | 'corrupt' | 'unopenable';

const UNWRITABLE = /^SQLITE_(READONLY|IOERR|FULL|PERM)/;
const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;
const UNOPENABLE = /^SQLITE_CANTOPEN/;
/** File-system errors from creating the database's folder. */
const FS_UNWRITABLE = /^(EROFS|ENOSPC|EDQUOT)$/;
const FS_UNOPENABLE = /^(EACCES|EPERM|ENOTDIR|EISDIR|ENOENT)$/;

/** Classify an error thrown by better-sqlite3. */
export function storeFailureKind(err: unknown): StoreFailureKind | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (UNWRITABLE.test(code)) return 'unwritable';
  if (CORRUPT.test(code)) return 'corrupt';
  if (UNOPENABLE.test(code) || FS_UNOPENABLE.test(code)) return 'unopenable';
  if (FS_UNWRITABLE.test(code)) return 'unwritable';
  return undefined;
}

/**
 * True for a write that found the database locked by another process past the busy timeout:
 * not a broken file, just a wait that ran out. Worth trying again; only if it lasts is it a
 * failure (see ORCH_DB_LOCKED).
 */
export function isStoreBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}
