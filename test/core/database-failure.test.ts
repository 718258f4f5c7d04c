/**
 * The database stops taking writes in the middle of a run (a full disk: here the process's
 * file-size limit is dropped to one byte, so every write fails with EFBIG, which SQLite
 * reports as a disk I/O error). `orch run` must not hang: it stops, says which file and
 * why, exits non-zero, and a later `orch run` with the disk fixed resumes the run.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { DbView, executionCounter, killAll, orchOk, spawnOrch, waitFor } from '../helpers/cli.ts';

let ws: Workspace;
let db: DbView;
let counter: ReturnType<typeof executionCounter>;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
  counter = executionCounter(ws);
  writeFileSync(join(ws.root, 'orch.config.json'), JSON.stringify({ heartbeatSeconds: 0.5, leaseSeconds: 5 }));
  ws.writeDag(
    'ledger',
    `${counter.snippet}
     const d = dag({ id: 'ledger' });
     const first = d.task({ id: 'first', run: () => { count('first'); return 1; } });
     const slow = d.task({
       id: 'slow',
       upstream: [first],
       run: async (ctx) => { count('slow.run'); ctx.handles.record({ kind: 'job', externalId: 'job-1' }); await until('go', ctx.signal); return 2; },
       resume: async (ctx) => { count('slow.resume'); await until('go', ctx.signal); return 2; },
     });
     d.task({ id: 'last', upstream: [slow], run: (ctx) => { count('last'); return ctx.xcom.pull<number>('slow') + 1; } });
     export default d;`,
  );
});

afterEach(async () => {
  await killAll();
  db.close();
  ws.cleanup();
});

describe('a database that stops taking writes mid-run', () => {
  it('makes orch run stop within a bounded time naming the file and the cause; a later orch run resumes the run', async () => {
    const run = spawnOrch(ws, ['run', 'ledger']);
    await waitFor('slow to be running', () => db.tasks('ledger').slow?.state === 'running' && counter.count('slow.run') === 1, 30_000, () => run.stderr);
    execFileSync('prlimit', ['--pid', String(run.child.pid), '--fsize=1']);

    const { code } = await run.waitForExit(60_000);
    expect(code).toBe(1);
    expect(run.stderr).toContain(`error ORCH_DB_UNWRITABLE: cannot write the orch database ${ws.db}: disk I/O error (SQLITE_IOERR`);
    expect(run.stderr).toContain('Once the database is writable, `orch run ledger` resumes it');
    // Nothing was recorded past the failure: the row still says running, as after a crash.
    expect(db.tasks('ledger')).toMatchObject({ first: { state: 'success' }, slow: { state: 'running', tryNumber: 1 }, last: { state: 'none' } });

    counter.signal('go');
    const again = await orchOk(ws, ['run', 'ledger']);
    expect(again.stdout).toMatch(/resumed run \S+: success/);
    expect(db.runs('ledger')).toHaveLength(1);
    expect(counter.count('first')).toBe(1);
    expect(counter.count('slow.run')).toBe(1);
    expect(counter.count('slow.resume')).toBe(1);
    expect(counter.count('last')).toBe(1);
  });
});
