/**
 * A process that lives keeps its runs: a task that blocks the event loop must not make its
 * lease lapse, and another scheduler must not start the try again meanwhile. Real `orch`
 * processes over one SQLite file, with short leases.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { DbView, killAll, orchOk, spawnOrch, waitFor, PATIENCE_MS } from '../helpers/cli.ts';

let ws: Workspace;
let db: DbView;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
  writeFileSync(join(ws.root, 'orch.config.json'), JSON.stringify({ heartbeatSeconds: 0.5, leaseSeconds: 4 }));
});

afterEach(async () => {
  await killAll();
  db.close();
  ws.cleanup();
});

/** A task that holds the event loop for `seconds`, then returns. */
const spinner = (extra = '') => `
  const d = dag({ id: 'spin' });
  d.task({ id: 'spin', ${extra} run: () => { const end = Date.now() + 10_000; while (Date.now() < end) {} return 'done'; } });
  export default d;`;

function leaseOf(dagId: string): { run: string | null; task: string | null } {
  const raw = new Database(ws.db, { readonly: true });
  try {
    raw.pragma('busy_timeout = 5000');
    const run = raw.prepare(`SELECT lease_expires_at AS l FROM dag_run WHERE dag_id = ?`).get(dagId) as { l: string | null };
    const task = raw.prepare(`SELECT lease_expires_at AS l FROM task_instance WHERE dag_id = ? AND state = 'running'`).get(dagId) as { l: string | null } | undefined;
    return { run: run.l, task: task?.l ?? null };
  } finally {
    raw.close();
  }
}

describe('leases', () => {
  it("are renewed while a task blocks the scheduler's event loop, and the stall is reported on stderr", async () => {
    ws.writeDag('spin', spinner());
    const run = spawnOrch(ws, ['run', 'spin']);
    await waitFor('the task to be running', () => db.tasks('spin').spin?.state === 'running', PATIENCE_MS, () => run.stderr);
    const lapsed: string[] = [];
    let samples = 0;
    // Until the task ends, every look at the lease finds it in the future.
    while (db.tasks('spin').spin?.state === 'running') {
      const now = new Date().toISOString();
      const lease = leaseOf('spin');
      if (db.tasks('spin').spin?.state !== 'running') break;
      samples++;
      if (!lease.run || lease.run <= now) lapsed.push(`run lease ${lease.run} at ${now}`);
      if (!lease.task || lease.task <= now) lapsed.push(`task lease ${lease.task} at ${now}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await run.waitForExit()).code).toBe(0);
    expect(samples).toBeGreaterThan(5);
    expect(lapsed).toEqual([]);
    expect(run.stderr).toMatch(/the scheduler's event loop has been blocked for \d+ s .*isolation: 'worker'/);
  });

  it('keep a second scheduler from starting a try again while the first is blocked; the try ends as a timeout, once', async () => {
    ws.writeDag('spin', spinner(`executionTimeout: '2s',`));
    const first = spawnOrch(ws, ['scheduler']);
    await first.waitForOutput(/scheduler started/, 'the first scheduler to start');
    await orchOk(ws, ['trigger', 'spin']);
    await waitFor('the task to be running', () => db.tasks('spin').spin?.state === 'running', PATIENCE_MS, () => first.stderr);
    const second = spawnOrch(ws, ['scheduler']);
    await second.waitForOutput(/scheduler started/, 'the second scheduler to start');
    await waitFor('the run to finish', () => ['success', 'failed'].includes(db.runs('spin')[0]?.state ?? ''), PATIENCE_MS, () => `${first.stderr}\n${second.stderr}`);
    expect(db.tasks('spin').spin).toEqual({ state: 'failed', tryNumber: 1 });
    expect(db.count('task_try')).toBe(1);
    const runId = db.runs('spin')[0]!.runId;
    const log = db.logs('spin', runId, 'spin', 1).join('\n');
    expect(log).toContain("task 'spin' exceeded its executionTimeout of 2000 ms and was aborted");
    expect(log).not.toContain('died');
  });
});
