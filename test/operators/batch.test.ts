/**
 * livy.batch against a real engine process (its /batches run a .sql file): the batch log
 * streams into the task log, success is reported, and an aborted task kills its batch.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbView, killAll, orch } from '../helpers/cli.ts';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { SDK_OPERATORS, killEngines, queryDb } from '../helpers/movielens.ts';

let ws: Workspace;
let db: DbView;

beforeEach(() => {
  ws = workspace();
  db = new DbView(ws.db);
});

afterEach(async () => {
  await killAll();
  killEngines(ws.db);
  db.close();
  ws.cleanup();
});

function writeBatchDag(sqlFile: string, taskArgs = ''): void {
  ws.writeDag(
    'batch_dag',
    `${SDK_OPERATORS}
     const d = dag({ id: 'batch_dag' });
     const create = d.task({ id: 'create_cluster', operator: cluster.create({ name: 'batch' }) });
     const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });
     const job = d.task({ id: 'job', upstream: [ready], ${taskArgs} operator: livy.batch({ cluster: create, file: ${JSON.stringify(sqlFile)}, name: 'nightly-job' }) });
     d.task({ id: 'terminate_cluster', upstream: [job], operator: cluster.terminate({ cluster: create }) });
     export default d;`,
  );
}

const runIdOf = (stdout: string) => /^run (\S+): (?:success|failed)$/m.exec(stdout)?.[1] ?? '';

describe('livy.batch', () => {
  it('runs a batch to success and streams its log into the task log', async () => {
    const out = join(ws.root, 'answer.parquet');
    const sql = join(ws.root, 'job.sql');
    writeFileSync(sql, `COPY (SELECT 42 AS answer) TO '${out}' (FORMAT parquet);\n`);
    writeBatchDag(sql);
    const r = await orch(ws, ['run', 'batch_dag']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const log = db.logs('batch_dag', runIdOf(r.stdout), 'job', 1).join('\n');
    expect(log).toMatch(/submitted batch \d+ \(.*job\.sql\)/);
    expect(log).toMatch(/batch \d+: success/);
    expect(log).toMatch(/^(stdout|stderr): /m);
  });

  it('fails the task with the batch log tail when the batch dies', async () => {
    const sql = join(ws.root, 'broken.sql');
    writeFileSync(sql, `SELECT * FROM no_such_table;\n`);
    writeBatchDag(sql);
    const r = await orch(ws, ['run', 'batch_dag']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ job: Livy batch \d+ ended dead[\s\S]*no_such_table/);
    expect(r.stdout).toMatch(/terminate_cluster success/);
  });

  it('kills the batch when the task is aborted by its executionTimeout', async () => {
    const sql = join(ws.root, 'slow.sql');
    writeFileSync(sql, `SELECT count(*) FROM range(100000000000) a;\n`);
    writeBatchDag(sql, `executionTimeout: '2s',`);
    const r = await orch(ws, ['run', 'batch_dag']);
    expect(r.code).toBe(1);
    const runId = runIdOf(r.stdout);
    const log = db.logs('batch_dag', runId, 'job', 1).join('\n');
    expect(log).toMatch(/killed batch \d+/);
    expect(queryDb(ws.db, `SELECT released_at FROM external_handle WHERE run_id = ? AND kind = 'livy-batch'`, runId)).toEqual([
      { released_at: expect.any(String) },
    ]);
  });
});
