/**
 * livy.batch in a detached try (a drain, a lost lease) or one whose database fails: the
 * batch runs on, and the next owner's resume follows it to the end without submitting it again.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskDetachedError } from '../../src/errors.ts';
import { batchOperator } from '../../src/operators/livy/batch.ts';
import { waitFor } from '../helpers/cli.ts';
import { bench, onEngine, type Bench } from './support.ts';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

describe('a detached livy.batch try', () => {
  it('leaves its batch running; the next owner follows it to success without submitting it again', async () => {
    b = await bench(['job']);
    const sql = join(b.ws.root, 'slow.sql');
    writeFileSync(sql, `SELECT count(*) FROM range(1000000000) WHERE hash(range) % 7 < 7;\n`);
    const op = batchOperator(b.backends);
    const options = { cluster: 'create_cluster', file: sql };

    const owner = new AbortController();
    const first = op.execute(b.context('job', { signal: owner.signal }), options).then(() => 'finished', (err: unknown) => err);
    const [, batchId] = await waitFor('the batch to be submitted', () => /submitted batch (\d+)/.exec(b!.logs('job').join('\n')));
    owner.abort(new TaskDetachedError('job', 'another orch process took this run over'));
    expect(await first).not.toBe('finished');
    expect(b.proxy.count('DELETE', `/batches/${batchId}`)).toBe(0);
    expect(['starting', 'running', 'success']).toContain((await onEngine(b, `/batches/${batchId}`)).body.state);

    expect(await op.resume!(b.context('job', { fresh: true }), options)).toEqual({ batchId: Number(batchId) });
    expect(b.proxy.count('POST', '/batches')).toBe(1);
    expect(b.logs('job').join('\n')).toMatch(new RegExp(`following batch ${batchId} .* started by this try`));
    expect(b.store.db.prepare(`SELECT count(*) AS n FROM external_handle WHERE kind = 'livy-batch' AND released_at IS NULL`).get()).toEqual({ n: 0 });
  });
});

describe('a livy.batch try whose database fails right after the batch is submitted', () => {
  it('leaves the batch running; the resume finds it by name and follows it to success without submitting it again', async () => {
    // Reproduces the review of issue 7: the batch was killed because its id could not be recorded (SQLITE_FULL).
    b = await bench(['job']);
    const sql = join(b.ws.root, 'slow.sql');
    writeFileSync(sql, `SELECT count(*) FROM range(300000000) WHERE hash(range) % 7 < 7;\n`);
    const op = batchOperator(b.backends);
    const options = { cluster: 'create_cluster', file: sql };
    const ctx = b.context('job');
    const record = ctx.handles.record.bind(ctx.handles);
    (ctx.handles as { record: typeof record }).record = (h) => {
      if (h.kind === 'livy-batch') throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      record(h);
    };
    await expect(op.execute(ctx, options)).rejects.toThrow('database or disk is full');
    const batches = (await onEngine(b, '/batches')).body.sessions as { id: number; state: string }[];
    expect(batches).toHaveLength(1);
    const batchId = batches[0]!.id;
    expect(b.proxy.count('DELETE', `/batches/${batchId}`)).toBe(0);
    expect(['starting', 'running', 'success']).toContain(batches[0]!.state);
    expect(b.logs('job').join('\n')).toContain(`batch ${batchId} is left running for the next orch process: the database could not record it`);

    expect(await op.resume!(b.context('job', { fresh: true }), options)).toEqual({ batchId });
    expect(b.proxy.count('POST', '/batches')).toBe(1);
    expect(b.logs('job').join('\n')).toMatch(new RegExp(`following batch ${batchId} .* started by this try`));
  });
});
