import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations.ts';
import { openStore } from '../../src/store/index.ts';
import { REPO, workspace, type Workspace } from '../helpers/dags.ts';

let ws: Workspace;
beforeEach(() => (ws = workspace()));
afterEach(() => ws.cleanup());

const newRun = (runId: string) => ({
  dagId: 'd',
  runId,
  runType: 'manual' as const,
  triggeredBy: 'cli' as const,
  logicalDate: '2026-01-01T00:00:00.000Z',
  dataIntervalStart: '2026-01-01T00:00:00.000Z',
  dataIntervalEnd: '2026-01-01T00:00:00.000Z',
  conf: { a: 1 },
  params: { a: 1 },
  queuedAt: new Date().toISOString(),
  tasks: [{ taskId: 't', maxTries: 2, pool: 'default_pool', operator: 'function' }],
});

describe('SQLite store', () => {
  it('creates the file under ORCH_HOME in WAL mode at the latest schema version', () => {
    const store = openStore(ws.db);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    store.close();
  });

  it('reopens an existing file without migrating it again, keeping its rows', () => {
    const a = openStore(ws.db);
    a.runs.create(newRun('r1'));
    a.close();
    const b = openStore(ws.db);
    expect(b.runs.get('d', 'r1')?.conf).toEqual({ a: 1 });
    expect(b.tis.listForRun('d', 'r1').map((t) => [t.taskId, t.state, t.maxTries])).toEqual([['t', 'none', 2]]);
    b.close();
  });

  it('refuses a database written by a newer orch, saying what to do', () => {
    openStore(ws.db).close();
    const raw = new Database(ws.db);
    raw.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    raw.close();
    expect(() => openStore(ws.db)).toThrow(/newer than this orch.*upgrade orch/);
  });

  it('lets several processes write the same file at once without losing a row', async () => {
    openStore(ws.db).close();
    const script = `
      import { openStore } from ${JSON.stringify(`${REPO}/src/store/index.ts`)};
      const s = openStore(process.argv[1]);
      for (let i = 0; i < 100; i++) s.logs.append({ dagId: 'd', runId: 'r', taskId: 't' }, 1, 'info', 'orch', process.argv[2] + '-' + i, new Date().toISOString());
      s.close();`;
    const store = openStore(ws.db);
    store.runs.create(newRun('r'));
    const codes = await Promise.all(
      ['p1', 'p2', 'p3'].map(
        (tag) =>
          new Promise<number>((resolve) =>
            spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ws.db, tag], { cwd: REPO, stdio: 'inherit' }).on('exit', (c) => resolve(c ?? 1)),
          ),
      ),
    );
    expect(codes).toEqual([0, 0, 0]);
    const lines = store.logs.read({ dagId: 'd', runId: 'r', taskId: 't' }, 1);
    expect(lines).toHaveLength(300);
    // Each writer's lines keep their order.
    const p2 = lines.filter((l) => l.message.startsWith('p2-')).map((l) => Number(l.message.slice(3)));
    expect(p2).toEqual([...p2].sort((x, y) => x - y));
    store.close();
  });

  it('never lets a late try result overwrite a state set meanwhile', () => {
    const store = openStore(ws.db);
    store.runs.create(newRun('r'));
    const key = { dagId: 'd', runId: 'r', taskId: 't' };
    const owner = { id: 'o', host: 'h', pid: 1 };
    const started = store.tis.startTry(key, ['none'], owner, new Date().toISOString(), new Date().toISOString());
    expect(started).toMatchObject({ state: 'running', tryNumber: 1 });
    store.tis.setState(key, 'failed', new Date().toISOString(), undefined, 'marked failed by a user');
    expect(store.tis.finishTry(key, 1, 'success', new Date().toISOString(), null)).toBeUndefined();
    expect(store.tis.get(key)!.state).toBe('failed');
    store.close();
  });
});

