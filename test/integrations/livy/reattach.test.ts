/**
 * Finding work again instead of repeating it: sessions by their unique name, statements by
 * the marker comment the client put in their code (docs/adr/0002-reattach-not-repeat.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LivyConnectionError } from '../../../src/integrations/livy/index.ts';
import type { LivyClient } from '../../../src/integrations/livy/index.ts';
import { nth, startFaultProxy } from './fault-proxy.ts';
import type { FaultProxy } from './fault-proxy.ts';
import { engineForTest, failure, testClient } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let proxy: FaultProxy;
let livy: LivyClient;

beforeAll(async () => {
  engine = await engineForTest();
  proxy = await startFaultProxy(engine.url);
  livy = testClient(proxy.url);
});
beforeEach(() => {
  proxy.faults.length = 0;
});
afterAll(async () => {
  await livy.close();
  await proxy.close();
  await engine.close();
});

describe('reattaching to a session', () => {
  it('finds a session by its unique name', async () => {
    const created = await livy.createSession({ kind: 'sql', name: 'orch-run1-load-1' });
    expect((await livy.findSessionByName('orch-run1-load-1'))?.id).toBe(created.id);
    expect(await livy.findSessionByName('orch-run1-load-9')).toBeUndefined();
  });

  it('keeps a stored id only if that session still has the expected name and appId', async () => {
    const mine = await livy.createSession({ kind: 'sql', name: 'orch-run2-t-1' });
    expect((await livy.reattachSession({ id: mine.id, name: 'orch-run2-t-1', appId: mine.appId! }))?.id).toBe(mine.id);
  });

  it("does not take somebody else's session that now has the stored id (Livy restarted without recovery)", async () => {
    const other = await livy.createSession({ kind: 'sql', name: 'someone-else' });
    expect(await livy.reattachSession({ id: other.id, name: 'orch-run3-t-1' })).toBeUndefined();
  });

  it('falls back to the name when the stored id is gone', async () => {
    const mine = await livy.createSession({ kind: 'sql', name: 'orch-run4-t-1' });
    expect((await livy.reattachSession({ id: 9999, name: 'orch-run4-t-1' }))?.id).toBe(mine.id);
  });
});

describe('reattaching to a statement', () => {
  it('finds the newest statement carrying a marker', async () => {
    const sid = (await livy.createSession({ kind: 'sql' })).id;
    await livy.waitForSessionIdle(sid);
    await livy.runStatement(sid, { code: 'SELECT 1', marker: 'run5/a/1', sessionKind: 'sql' });
    const second = await livy.runStatement(sid, { code: 'SELECT 2', marker: 'run5/b/1', sessionKind: 'sql' });
    expect((await livy.findStatementByMarker(sid, 'run5/b/1'))?.id).toBe(second.id);
    expect(await livy.findStatementByMarker(sid, 'run5/c/1')).toBeUndefined();
  });

  it('never re-POSTs a statement whose answer was lost; the marker finds the one that ran', async () => {
    // Reproduces: the connection drops after Livy accepted POST /statements (proxy restart, LB idle cut).
    const sid = (await livy.createSession({ kind: 'sql' })).id;
    await livy.waitForSessionIdle(sid);
    proxy.faults.push(nth('POST', new RegExp(`^/sessions/${sid}/statements$`), { resetAfterForward: true }));
    const error = await failure(livy.submitStatement(sid, { code: 'SELECT 42 AS x', marker: 'run6/a/1', sessionKind: 'sql' }));
    expect(error).toBeInstanceOf(LivyConnectionError);
    expect(error.message).toContain('may or may not have been applied');
    expect(proxy.count('POST', `/sessions/${sid}/statements`)).toBe(1);
    const found = await livy.findStatementByMarker(sid, 'run6/a/1');
    expect(found).toBeDefined();
    const done = await livy.waitForStatement(sid, found!.id);
    expect(done.output).toMatchObject({ status: 'ok', data: { 'application/json': { data: [[42]] } } });
    expect((await livy.listStatements(sid)).total_statements).toBe(1);
  });
});

/** Livy before 0.8 looks up `GET /batches/{x}` only by id: a name is a 400. */
const OLD_LIVY_NAME_LOOKUP = (hit: { method: string; url: string }) =>
  hit.method === 'GET' && /^\/batches\/[^/?]*[^0-9/?][^/?]*$/.test(hit.url) ? { reply: 400, body: '{"msg":"invalid batch id"}' } : undefined;

function sqlFile(name: string, text: string): string {
  const path = join(engine.home, name);
  writeFileSync(path, text);
  return path;
}

describe('reattaching to a batch', () => {
  it('finds a batch by listing on a Livy that answers 400 to GET /batches/{name} (before 0.8)', async () => {
    proxy.faults.push(OLD_LIVY_NAME_LOOKUP);
    const batch = await livy.createBatch({ file: sqlFile('b1.sql', 'SELECT 1;'), name: 'orch-run7-job-1' });
    expect((await failure(livy.getBatch('orch-run7-job-1'))).status).toBe(400);
    expect((await livy.findBatchByName('orch-run7-job-1'))?.id).toBe(batch.id);
    expect((await livy.reattachBatch({ id: 9999, name: 'orch-run7-job-1' }))?.id).toBe(batch.id);
    expect(await livy.findBatchByName('orch-run7-job-2')).toBeUndefined();
  });

  it("does not take somebody else's batch that now has the stored id (Livy restarted without recovery)", async () => {
    const other = await livy.createBatch({ file: sqlFile('b2.sql', 'SELECT 1;'), name: 'someone-elses-batch' });
    expect(await livy.reattachBatch({ id: other.id, name: 'orch-run8-job-1' })).toBeUndefined();
  });
});

describe('a POST whose answer is lost', () => {
  it('creates one session: the session POST is resolved by its unique name, not sent again', async () => {
    // Reproduces: POST /sessions applied by Livy, the connection cut before the answer (an orphan session before).
    const before = proxy.count('POST', '/sessions');
    proxy.faults.push(nth('POST', /^\/sessions$/, { resetAfterForward: true }));
    const session = await livy.createSessionOnce({ kind: 'sql', name: 'orch-run9-t-1' });
    expect(session.name).toBe('orch-run9-t-1');
    expect(proxy.count('POST', '/sessions') - before).toBe(1);
    const named = (await livy.listSessions()).sessions.filter((s) => s.name === 'orch-run9-t-1');
    expect(named.map((s) => s.id)).toEqual([session.id]);
  });

  it('creates one batch: the batch POST is resolved by its unique name, not sent again', async () => {
    const before = proxy.count('POST', '/batches');
    proxy.faults.push(nth('POST', /^\/batches$/, { resetAfterForward: true }), OLD_LIVY_NAME_LOOKUP);
    const batch = await livy.createBatchOnce({ file: sqlFile('b3.sql', 'SELECT 1;'), name: 'orch-run10-job-1' });
    expect(batch.name).toBe('orch-run10-job-1');
    expect(proxy.count('POST', '/batches') - before).toBe(1);
    expect((await livy.listBatches()).sessions.filter((b) => b.name === 'orch-run10-job-1')).toHaveLength(1);
  });

  it('still fails when the session was not created (the connection was refused before Livy saw it)', async () => {
    proxy.faults.push(nth('POST', /^\/sessions$/, { reset: true }));
    const error = await failure(livy.createSessionOnce({ kind: 'sql', name: 'orch-run11-t-1' }));
    expect(error).toBeInstanceOf(LivyConnectionError);
    expect(await livy.findSessionByName('orch-run11-t-1')).toBeUndefined();
  });
});
