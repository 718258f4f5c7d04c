/**
 * A retry and the work its task's earlier try left running on Livy: the retry deletes it
 * before submitting its own, and when it cannot ask Livy it fails instead of submitting a
 * second batch next to the first.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskDetachedError } from '../../src/errors.ts';
import { batchOperator } from '../../src/operators/livy/batch.ts';
import { waitFor } from '../helpers/cli.ts';
import { ENDLESS_SQL } from '../engine/support.ts';
import { bench, onEngine, type Bench } from './support.ts';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

describe("a retry of a livy.batch task whose earlier try's batch still runs", () => {
  it('fails, submitting nothing, while Livy cannot tell whether that batch is gone; once it can, kills it and then submits', async () => {
    b = await bench(['job'], { backend: 'livy' });
    const op = batchOperator(b.backends);
    const endless = join(b.ws.root, 'endless.sql');
    writeFileSync(endless, `${ENDLESS_SQL};\n`);
    const quick = join(b.ws.root, 'quick.sql');
    writeFileSync(quick, 'SELECT 42 AS answer;\n');

    // Try 1's batch runs on after its try ended without killing it (here: a detach whose resume never came).
    const owner = new AbortController();
    const first = op.execute(b.context('job', { signal: owner.signal }), { cluster: 'create_cluster', file: endless }).then(() => 'finished', (err: unknown) => err);
    const [, batchId] = await waitFor('try 1 to submit its batch', () => /submitted batch (\d+)/.exec(b!.logs('job').join('\n')));
    owner.abort(new TaskDetachedError('job', 'orch is shutting down'));
    expect(await first).not.toBe('finished');

    b.proxy.faults.push((hit) => (hit.method === 'GET' && hit.url.startsWith('/batches') ? { reset: true } : undefined));
    const error = await op.execute(b.context('job', { tryNumber: 2 }), { cluster: 'create_cluster', file: quick }).then(() => undefined, (err: unknown) => err);
    b.proxy.faults.length = 0;
    expect(error).toMatchObject({ code: 'ORCH_LIVY_CLEANUP_FAILED', retryable: true });
    expect((error as Error).message).toMatch(
      /^try 2 could not make sure the Livy batch 'orch-op_dag-manual__op-job-1' left by try 1 is gone at http:\S+ \(cannot reach Livy .*\); it does not submit its own/,
    );
    expect(b.proxy.count('POST', '/batches')).toBe(1);
    expect(['starting', 'running']).toContain((await onEngine(b, `/batches/${batchId}`)).body.state);

    expect(await op.execute(b.context('job', { tryNumber: 3 }), { cluster: 'create_cluster', file: quick })).toMatchObject({ batchId: expect.any(Number) });
    expect((await onEngine(b, `/batches/${batchId}`)).status).toBe(404);
    expect(b.logs('job', 3).join('\n')).toContain(`deleted Livy batch ${batchId} 'orch-op_dag-manual__op-job-1', left running by try 1, before submitting this try's`);
    expect(b.proxy.count('POST', '/batches')).toBe(2);
  });
});
