/**
 * A lock per local path, across processes: two runs that write the same output directory
 * must not interleave their swaps. The lock is SQLite's exclusive lock on a small file (an
 * OS file lock), so a holder that crashes — even SIGKILL — cannot leave it stuck: the
 * kernel drops it with the process. Waiting polls, so the event loop never blocks.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where lock files live: per user, outside the output folders (readers list those). */
const LOCK_DIR = join(tmpdir(), `orch-locks-${process.getuid?.() ?? 'user'}`);

/** Run `fn` while holding the lock of `path`; waits (without blocking) while another process holds it. */
export async function withPathLock<T>(path: string, fn: () => T | Promise<T>, signal?: AbortSignal): Promise<T> {
  mkdirSync(LOCK_DIR, { recursive: true });
  const file = join(LOCK_DIR, `${createHash('sha256').update(resolve(path)).digest('hex').slice(0, 32)}.lock`);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 0');
    for (;;) {
      try {
        db.exec('BEGIN EXCLUSIVE');
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        await sleep(20, undefined, { signal });
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
