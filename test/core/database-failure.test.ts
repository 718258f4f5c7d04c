/**
 * When the database cannot be used. Mid-run, it stops taking writes (a full disk: here the
 * process's file-size limit is dropped to one byte, so every write fails with EFBIG, which
 * SQLite reports as a disk I/O error): `orch run` must not hang; it stops, says which file
 * and why, exits non-zero, and a later `orch run` with the disk fixed resumes the run. At
 * open, a damaged, read-only or emptied file gets one clear line, not a stack trace.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, workspace, type Workspace } from '../helpers/dags.ts';
import { DbView, executionCounter, killAll, orch, orchEnv, orchOk, spawnOrch, waitFor, PATIENCE_MS } from '../helpers/cli.ts';

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
    await waitFor('slow to be running', () => db.tasks('ledger').slow?.state === 'running' && counter.count('slow.run') === 1, PATIENCE_MS, () => run.stderr);
    execFileSync('prlimit', ['--pid', String(run.child.pid), '--fsize=1']);

    const { code } = await run.waitForExit();
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

/** Run `orch` as a user the file permissions apply to (root ignores them unless it drops CAP_DAC_OVERRIDE). */
function orchAsUser(args: string[]): { code: number; stdout: string; stderr: string } {
  const argv = [process.execPath, CLI, ...args];
  const cmd = process.getuid?.() === 0 ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--inh-caps', '-dac_override,-dac_read_search', ...argv] : argv;
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: ws.root, env: orchEnv(ws), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('opening a database that cannot be used', () => {
  beforeEach(async () => {
    counter.signal('go');
    await orchOk(ws, ['run', 'ledger']);
  });

  it('names a damaged file and what to do, in one line, exit 2, for every command', async () => {
    db.close();
    for (const f of [`${ws.db}-wal`, `${ws.db}-shm`]) rmSync(f, { force: true });
    writeFileSync(ws.db, Buffer.alloc(8192, 0x5a));
    for (const args of [['runs', 'list'], ['run', 'ledger'], ['dags', 'list']]) {
      const r = await orch(ws, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^error ORCH_DB_CORRUPT: the orch database ${escape(ws.db)} is damaged or not an SQLite database: file is not a database \\(SQLITE_NOTADB\\)\\. Restore it from a backup, or move it aside`)),
      ]);
    }
  });

  it('lets reading commands work on a read-only database; writing ones say why they cannot, exit 2', async () => {
    db.close();
    chmodSync(ws.db, 0o444);
    try {
      const list = orchAsUser(['runs', 'list', '--dag', 'ledger']);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(/^ledger\s+\S+\s+success/m);
      const logs = orchAsUser(['logs', 'ledger', db.runs('ledger')[0]!.runId, 'last']);
      expect(logs.code, logs.stderr).toBe(0);

      const run = orchAsUser(['run', 'ledger']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`error ORCH_DB_UNWRITABLE: cannot write the orch database ${ws.db}: attempt to write a readonly database (SQLITE_READONLY)`);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      chmodSync(ws.db, 0o644);
    }
  });

  it('says so when the file was emptied (0 bytes), instead of silently starting a new history', async () => {
    db.close();
    for (const f of [`${ws.db}-wal`, `${ws.db}-shm`]) rmSync(f, { force: true });
    writeFileSync(ws.db, '');
    const past = new Date(Date.now() - 60_000);
    utimesSync(ws.db, past, past);
    const r = await orchOk(ws, ['runs', 'list']);
    expect(r.stderr).toContain(`warning: the orch database ${ws.db} was empty (0 bytes), so a new run history starts in it; if it held runs before, they are gone`);
    expect(r.stdout).toMatch(/No runs yet/);
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
