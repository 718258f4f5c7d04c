/**
 * A lock per local path, across processes: two runs that write the same output directory
 * must not interleave their swaps. The lock lives beside the path, in its parent directory
 * (`.<name>.lock`, hidden), where every process that can swap the path sees the same file —
 * whatever its user, TMPDIR or private /tmp. It is SQLite's exclusive lock on that file (an
 * OS file lock), so a holder that crashes — even SIGKILL — cannot leave it stuck: the kernel
 * drops it with the process. The file stays (removing it while another process waits on it
 * would let two hold "the" lock). Waiting polls, so the event loop never blocks.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PathLockOptions {
  signal?: AbortSignal;
  /** Called once if another process holds the lock, before waiting for it. */
  onWait?: (lockFile: string) => void;
}

/** The lock file of `path`: hidden, beside it. */
export function lockFileOf(path: string): string {
  const target = resolve(path);
  return join(dirname(target), `.${basename(target)}.lock`);
}

/** Run `fn` while holding the lock of `path`; waits (without blocking) while another process holds it. */
export async function withPathLock<T>(path: string, fn: () => T | Promise<T>, options: PathLockOptions = {}): Promise<T> {
  const file = lockFileOf(path);
  createLockFile(file);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 0');
    for (let waited = false; ; waited = true) {
      try {
        db.exec('BEGIN EXCLUSIVE');
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        if (!waited) options.onWait?.(file);
        await sleep(20, undefined, { signal: options.signal });
      }
    }
    try {
      return await fn();
    } finally {
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}

/**
 * Create the lock file if it is missing, writable by whoever may write its directory: another
 * user who can swap the output must be able to take its lock too.
 */
function createLockFile(file: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  closeSync(fd);
  chmodSync(file, statSync(dir).mode & 0o666);
}
