// The lease keeper's thread: renews the leases of every run and try this orch process owns,
// on its own SQLite connection, so that a task blocking the main thread's event loop (a long
// synchronous loop) cannot make the process look dead to other schedulers. It also notices
// when the main thread has stopped beating and says so on stderr, once per stall.
// Plain JavaScript on purpose: it starts in milliseconds, without the TypeScript loader.
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { dbFile, ownerId, leaseMs, heartbeatMs, pulse } = workerData;
const mainBeat = new BigInt64Array(pulse);
const db = new Database(dbFile);
db.pragma('busy_timeout = 10000');
const renewRuns = db.prepare(`UPDATE dag_run SET lease_expires_at = ? WHERE owner_id = ? AND state IN ('queued', 'running')`);
const renewTries = db.prepare(`UPDATE task_instance SET lease_expires_at = ? WHERE owner_id = ? AND state IN ('queued', 'running')`);
const renew = db.transaction((until) => {
  renewRuns.run(until, ownerId);
  renewTries.run(until, ownerId);
});

let stalledSince = 0;
let failed = false;
let renewedAt = Date.now();

function beat() {
  if (failed) return;
  try {
    renew(new Date(Date.now() + leaseMs).toISOString());
    renewedAt = Date.now();
  } catch (err) {
    const code = typeof err?.code === 'string' ? err.code : '';
    // Locked by another process past the busy timeout: try again next beat, while the lease holds.
    if (/^SQLITE_(BUSY|LOCKED)/.test(code)) {
      if (Date.now() - renewedAt < leaseMs / 2) return;
      failed = true;
      parentPort.postMessage({
        type: 'error',
        code: 'ORCH_DB_LOCKED',
        message: `another process has kept the database locked for ${Math.round((Date.now() - renewedAt) / 1000)} s, so this process cannot renew its leases (${code})`,
      });
      return;
    }
    // The main thread decides what a failed write means (the database is unusable: halt).
    failed = true;
    parentPort.postMessage({ type: 'error', code, message: err?.message ?? String(err) });
    return;
  }
  const last = Number(Atomics.load(mainBeat, 0));
  const silent = Date.now() - last;
  if (last && silent > Math.max(3 * heartbeatMs, 5_000)) {
    if (!stalledSince) {
      stalledSince = last;
      // stderr through fs: the main thread, which would forward process.stderr, is the one stuck.
      writeSync(2, `orch: the scheduler's event loop has been blocked for ${Math.round(silent / 1000)} s (pid ${process.pid}); ` +
        `a function task doing long synchronous work blocks every run in this process — give it isolation: 'worker'. Leases are still renewed.\n`);
    }
  } else if (stalledSince) {
    writeSync(2, `orch: the scheduler's event loop is running again after ${Math.round((Date.now() - stalledSince) / 1000)} s\n`);
    stalledSince = 0;
  }
}

const timer = setInterval(beat, heartbeatMs);
parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
beat();
