/**
 * The client's statement calls and waits against the real engine over HTTP
 * (docs/livy-api.md, "Statements").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LivyHttpError, LivyStatementCancelledError, LivyStatementFailedError } from '../../../src/integrations/livy/index.ts';
import type { LivyClient, Send } from '../../../src/integrations/livy/index.ts';
import { waitForStatement } from '../../../src/integrations/livy/wait.ts';
import { ENDLESS_SQL } from '../../engine/support.ts';
import { engineForTest, failure, testClient } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let livy: LivyClient;
let sid: number;

beforeAll(async () => {
  engine = await engineForTest();
  livy = testClient(engine.url);
  sid = (await livy.createSession({ kind: 'sql', name: 'client-statements' })).id;
  await livy.waitForSessionIdle(sid);
});
afterAll(async () => {
  await livy.close();
  await engine.close();
});

describe('running a statement', () => {
  it('submits and waits, resolving with the ok output (text/plain and application/json)', async () => {
    const st = await livy.runStatement(sid, { code: 'SELECT 6 * 7 AS answer' });
    expect(st.state).toBe('available');
    expect(st.output).toMatchObject({ status: 'ok', data: { 'application/json': { data: [[42]] } } });
    expect(st.output?.status === 'ok' && st.output.data['text/plain']).toContain('|answer|');
  });

  it('reports progress through the callback, ending at 1.0', async () => {
    const seen: number[] = [];
    await livy.runStatement(sid, { code: 'SELECT count(*) FROM range(1000)' }, { onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toBe(1);
  });

  it('throws LivyStatementFailedError with ename, evalue and traceback when the code fails', async () => {
    const error = await failure(livy.runStatement(sid, { code: 'SELECT * FROM not_there' }));
    expect(error).toBeInstanceOf(LivyStatementFailedError);
    expect(error).toMatchObject({ code: 'ORCH_LIVY_STATEMENT_FAILED', ename: 'CatalogException', sessionId: sid });
    expect(error.evalue).toContain('not_there');
    expect(error.traceback.join('\n')).toContain('LINE 1');
    expect(error.message).toMatch(/^CatalogException: Table with name not_there/);
  });

  it('can resolve with the error output instead of throwing (returnErrors)', async () => {
    const st = await livy.runStatement(sid, { code: 'SELEC 1' }, { returnErrors: true });
    expect(st.output).toMatchObject({ status: 'error', ename: 'ParserException' });
  });

  it('sends a per-statement kind when given one', async () => {
    const st = await livy.runStatement(sid, { code: 'SELECT 1 AS one', kind: 'sql' });
    expect(st.output?.status).toBe('ok');
  });

  it('puts a marker comment in the comment syntax of the kind, on the first line', async () => {
    const st = await livy.submitStatement(sid, { code: 'SELECT 1', marker: 'run-7/task-a/1', sessionKind: 'sql' });
    expect(st.code).toBe('-- orch:marker=run-7/task-a/1\nSELECT 1');
    await livy.waitForStatement(sid, st.id);
  });
});

describe('reading and cancelling statements', () => {
  it('gets and lists statements', async () => {
    const st = await livy.runStatement(sid, { code: 'SELECT 2' });
    expect((await livy.getStatement(sid, st.id)).id).toBe(st.id);
    const list = await livy.listStatements(sid);
    expect(list.total_statements).toBe(list.statements.length);
    expect(list.statements.map((s) => s.id)).toContain(st.id);
  });

  it('reports an unknown statement as a 404 LivyHttpError whose message is the bare string body', async () => {
    const error = await failure(livy.getStatement(sid, 987654));
    expect(error).toBeInstanceOf(LivyHttpError);
    expect(error).toMatchObject({ status: 404, serverMessage: 'Statement not found' });
  });

  it('cancels a running statement; a waiter gets LivyStatementCancelledError', async () => {
    const st = await livy.submitStatement(sid, { code: ENDLESS_SQL });
    const waiting = failure(livy.waitForStatement(sid, st.id));
    for (let i = 0; i < 200 && (await livy.getStatement(sid, st.id)).state !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
    await livy.cancelStatement(sid, st.id);
    const error = await waiting;
    expect(error).toBeInstanceOf(LivyStatementCancelledError);
    expect(error).toMatchObject({ code: 'ORCH_LIVY_STATEMENT_CANCELLED', sessionId: sid, statementId: st.id });
    await livy.waitForSessionIdle(sid);
  });

  it("follows a statement on orch's engine through long polls, and never asks plain Livy for one", async () => {
    for (const offered of [true, false]) {
      const asked: string[] = [];
      // Plain Livy: the same server with the offer taken off every answer.
      const send: Send = async (request) => {
        if (request.path.includes('/statements/')) asked.push(String(request.query?.wait ?? ''));
        const response = await livy.send(request);
        return offered ? response : { ...response, headers: {} };
      };
      const st = await livy.submitStatement(sid, { code: ENDLESS_SQL });
      const waiting = failure(waitForStatement(send, sid, st.id, { poll: { minIntervalMs: 20, maxIntervalMs: 200 } }));
      for (let i = 0; i < 200 && (await livy.getStatement(sid, st.id)).state !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      await livy.cancelStatement(sid, st.id);
      expect(await waiting).toBeInstanceOf(LivyStatementCancelledError);
      if (offered) expect(asked.filter((w) => w !== '').length).toBeGreaterThan(0);
      else expect(asked.every((w) => w === '')).toBe(true);
      await livy.waitForSessionIdle(sid);
    }
  });

  it('reports a statement posted to a dead session as the 500 bare-string LivyHttpError', async () => {
    const dead = await livy.createSession({ kind: 'sql', conf: { 'duckdb.bogus': '1' } });
    await failure(livy.waitForSessionIdle(dead.id));
    const error = await failure(livy.submitStatement(dead.id, { code: 'SELECT 1' }));
    expect(error).toMatchObject({ status: 500, serverMessage: 'java.lang.IllegalStateException: Session is in state dead' });
  });
});
