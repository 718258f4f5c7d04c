/**
 * Livy session and batch names carry the DAG id: scheduled run ids (`scheduled__<date>`) are
 * the same in every DAG on one schedule, so two DAGs sharing a task id would otherwise give
 * their work one name — Livy refuses the second session ("Duplicate session name"), and a
 * resume or the reaper looking a name up could take or delete the other DAG's work.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logging.ts';
import { TaskDetachedError } from '../../src/errors.ts';
import { reapClusters } from '../../src/operators/cluster/reaper.ts';
import { batchOperator } from '../../src/operators/livy/batch.ts';
import { MAX_NAME_LENGTH, livyName } from '../../src/operators/livy/session.ts';
import { statementOperator } from '../../src/operators/livy/statement.ts';
import type { TiKey } from '../../src/store/index.ts';
import { waitFor } from '../helpers/cli.ts';
import { bench, createRun, onEngine, RUN, startTry, taskContext, type Bench } from './support.ts';

const SCHEDULED = 'scheduled__2024-01-01T00:00:00.000Z';
/** Seconds of DuckDB on 2 cores. */
const SLOW_SQL = 'SELECT count(*) AS n FROM range(1000000000) WHERE hash(range) % 7 < 7';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

describe('livyName', () => {
  it('differs between two DAGs whose run id and task id are the same', () => {
    const sales = livyName({ dagId: 'sales', runId: SCHEDULED, taskId: 'load' }, 1);
    expect(sales).toBe(`orch-sales-${SCHEDULED}-load-1`);
    expect(livyName({ dagId: 'marketing', runId: SCHEDULED, taskId: 'load' }, 1)).not.toBe(sales);
    expect(livyName({ dagId: 'sales', runId: SCHEDULED, taskId: 'load' }, 2, 'nightly')).toBe(`nightly-sales-${SCHEDULED}-load-2`);
  });

  it('keeps long names within the limit, readable at the start, ending in the try, and still one per DAG', () => {
    const long = (dagId: string) => livyName({ dagId, runId: SCHEDULED, taskId: 'transform_ratings_with_genome_scores' }, 3);
    const a = long('a_very_long_dag_id_that_a_team_chose_for_its_nightly_pipeline_a');
    const b2 = long('a_very_long_dag_id_that_a_team_chose_for_its_nightly_pipeline_b');
    for (const name of [a, b2]) {
      expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
      expect(name).toMatch(/^orch-a_very_long_dag_id_.*-[0-9a-f]{12}-3$/);
    }
    expect(a).not.toBe(b2);
  });
});

/** A second DAG's run with the same run id and task ids, using the same cluster. */
function otherDag(b: Bench, dagId: string, task: string) {
  const run = createRun(b.store, [task], {}, RUN, dagId);
  const key = (taskId: string): TiKey => ({ dagId, runId: RUN, taskId });
  b.store.xcom.set(key('create_cluster'), 'return_value', b.info, new Date().toISOString());
  return { run, key, context: (options: { signal?: AbortSignal } = {}) => taskContext(b.store, run, task, options) };
}

const logsOf = (b: Bench, dagId: string, taskId: string) =>
  (b.store.db.prepare(`SELECT message FROM task_log WHERE dag_id = ? AND task_id = ? ORDER BY id`).all(dagId, taskId) as { message: string }[]).map((r) => r.message).join('\n');

describe('two DAGs with the same task id and run id on one Livy', () => {
  it("both run their statement; the reaper, cleaning up after one, leaves the other's running session alone", async () => {
    // The livy backend: handles carry no engine pid, so the reaper decides by name alone.
    b = await bench(['stmt'], { backend: 'livy' });
    const op = statementOperator(b.backends);
    const other = otherDag(b, 'other_dag', 'stmt');
    startTry(b.store, b.key('stmt'));
    const endOther = startTry(b.store, other.key('stmt'));

    // op_dag's statement runs on (its try was detached: the next owner follows it).
    const owner = new AbortController();
    const first = op.execute(b.context('stmt', { signal: owner.signal }), { cluster: 'create_cluster', code: { duckdb: SLOW_SQL } }).then(() => 'finished', (err: unknown) => err);
    const [, , sessionId] = await waitFor('op_dag to submit its statement', () => /submitted statement (\d+) to session (\d+)/.exec(b!.logs('stmt').join('\n')));
    owner.abort(new TaskDetachedError('stmt', 'orch is shutting down'));
    expect(await first).not.toBe('finished');

    // other_dag's statement, same run id and task id: its session is deleted on the engine, but
    // the answer is lost — its handle stays open, naming a session that no longer exists.
    let deletes = 0;
    b.proxy.faults.push((hit) =>
      hit.method === 'DELETE' && hit.url !== `/sessions/${sessionId}` ? (deletes++ === 0 ? { resetAfterForward: true } : { reply: 500, body: '{"msg":"restarting"}' }) : undefined,
    );
    const result = (await op.execute(other.context(), { cluster: 'create_cluster', code: { duckdb: 'SELECT 7 AS seven' } })) as { sessionId: number; output: unknown };
    expect(result.output).toMatchObject({ data: [[7]] });
    expect(result.sessionId).not.toBe(Number(sessionId));
    b.proxy.faults.length = 0;
    expect(logsOf(b, 'other_dag', 'stmt')).toContain(`could not delete Livy session ${result.sessionId}`);

    endOther('success');
    await reapClusters(b.store, silentLogger, b.backends);
    expect(b.proxy.count('DELETE', `/sessions/${sessionId}`)).toBe(0);
    expect((await onEngine(b, `/sessions/${sessionId}`)).status).toBe(200);
    expect(b.store.db.prepare(`SELECT dag_id AS dag FROM external_handle WHERE kind = 'livy-session' AND released_at IS NULL`).all()).toEqual([{ dag: 'op_dag' }]);

    // And op_dag's next owner follows its own statement to the end.
    const resumed = await op.resume!(b.context('stmt', { fresh: true }), { cluster: 'create_cluster', code: { duckdb: SLOW_SQL } });
    expect(resumed).toMatchObject({ sessionId: Number(sessionId) });
    expect(b.proxy.count('POST', /^\/sessions\/\d+\/statements$/)).toBe(2);
  });

  it('both run their batch; a resume looking its batch up by name finds its own, not the other DAG\'s', async () => {
    b = await bench(['job'], { backend: 'livy' });
    const op = batchOperator(b.backends);
    const other = otherDag(b, 'other_dag', 'job');
    const slow = join(b.ws.root, 'slow.sql');
    writeFileSync(slow, `${SLOW_SQL};\n`);
    const quick = join(b.ws.root, 'quick.sql');
    writeFileSync(quick, 'SELECT 42 AS answer;\n');

    const owner = new AbortController();
    const first = op.execute(b.context('job', { signal: owner.signal }), { cluster: 'create_cluster', file: slow, name: 'nightly' }).then(() => 'finished', (err: unknown) => err);
    const [, batchId] = await waitFor('op_dag to submit its batch', () => /submitted batch (\d+)/.exec(b!.logs('job').join('\n')));
    owner.abort(new TaskDetachedError('job', 'orch is shutting down'));
    expect(await first).not.toBe('finished');

    // other_dag's try died before orch recorded anything: its resume looks its batch up by name.
    const result = (await op.resume!(other.context(), { cluster: 'create_cluster', file: quick, name: 'nightly' })) as { batchId: number };
    expect(result.batchId).not.toBe(Number(batchId));
    expect(logsOf(b, 'other_dag', 'job')).toContain('try 1 had not submitted its batch before orch restarted; submitting it now');
    expect(b.proxy.count('DELETE', `/batches/${batchId}`)).toBe(0);

    expect(await op.resume!(b.context('job', { fresh: true }), { cluster: 'create_cluster', file: slow, name: 'nightly' })).toEqual({ batchId: Number(batchId) });
    expect(b.proxy.count('POST', '/batches')).toBe(2);
  });
});
