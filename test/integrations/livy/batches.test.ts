/** The client's batch calls against the real engine over HTTP (docs/livy-api.md, "Batches"). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LivyBatchFailedError } from '../../../src/integrations/livy/index.ts';
import type { LivyClient } from '../../../src/integrations/livy/index.ts';
import { ENDLESS_SQL } from '../../engine/support.ts';
import { engineForTest, failure, testClient } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let livy: LivyClient;

beforeAll(async () => {
  engine = await engineForTest();
  livy = testClient(engine.url);
});
afterAll(async () => {
  await livy.close();
  await engine.close();
});

function sqlFile(name: string, text: string): string {
  const path = join(engine.home, name);
  writeFileSync(path, text);
  return path;
}

describe('batches', () => {
  it('submits a batch with the fields Livy knows and waits for success, reporting states', async () => {
    const batch = await livy.createBatch({ file: sqlFile('a.sql', 'SELECT 1;'), name: 'client-batch', args: ['x'], conf: { 'spark.x': '1' }, proxyUser: 'bob' });
    expect(batch).toMatchObject({ name: 'client-batch', state: 'starting', proxyUser: 'bob' });
    const states: string[] = [];
    await livy.waitForBatch(batch.id, { onState: (s) => states.push(s) });
    expect(states.at(-1)).toBe('success');
    expect(await livy.getBatchState(batch.id)).toEqual({ id: batch.id, state: 'success' });
    expect((await livy.getBatch('client-batch')).id).toBe(batch.id);
    expect((await livy.listBatches()).sessions.map((b) => b.id)).toContain(batch.id);
  });

  it('throws LivyBatchFailedError with the final state and the log tail when the batch dies', async () => {
    const batch = await livy.createBatch({ file: sqlFile('bad.sql', 'SELECT * FROM nope;') });
    const error = await failure(livy.waitForBatch(batch.id));
    expect(error).toBeInstanceOf(LivyBatchFailedError);
    expect(error).toMatchObject({ code: 'ORCH_LIVY_BATCH_FAILED', batchId: batch.id, state: 'dead' });
    expect(error.logTail.join('\n')).toContain('Table with name nope does not exist');
  });

  it('deletes a running batch; deleting again resolves false', async () => {
    const batch = await livy.createBatch({ file: sqlFile('long.sql', `${ENDLESS_SQL};`) });
    for (let i = 0; i < 200 && (await livy.getBatchState(batch.id)).state !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await livy.deleteBatch(batch.id)).toBe(true);
    expect(await livy.deleteBatch(batch.id)).toBe(false);
  });

  it('reports an s3:// file as a 400 LivyHttpError naming the backends that read it', async () => {
    const error = await failure(livy.createBatch({ file: 's3://bucket/x.sql' }));
    expect(error).toMatchObject({ status: 400 });
    expect(error.serverMessage).toMatch(/'livy' and 'emr' backends/);
  });
});
