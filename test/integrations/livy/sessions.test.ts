/**
 * The client's session calls against the real engine over HTTP (docs/livy-api.md, "Interactive
 * sessions" and "Session states").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LivyHttpError, LivySessionDeadError } from '../../../src/integrations/livy/index.ts';
import type { LivyClient } from '../../../src/integrations/livy/index.ts';
import { engineForTest, failure, testClient } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let livy: LivyClient;

beforeAll(async () => {
  engine = await engineForTest({ maxSessions: 4 });
  livy = testClient(engine.url);
});
afterAll(async () => {
  await livy.close();
  await engine.close();
});

describe('sessions', () => {
  it('creates a session with every create field Livy knows (the server rejects unknown ones)', async () => {
    const session = await livy.createSession({
      kind: 'sql', proxyUser: 'bob', jars: [], pyFiles: [], files: [], archives: [], driverMemory: '1g', driverCores: 1,
      executorMemory: '1g', executorCores: 1, numExecutors: 1, queue: 'default', name: 'client-all-fields',
      conf: { 'spark.app.name': 'x' }, heartbeatTimeoutInSecond: 0, ttl: '1h', idleTimeout: '1h',
    });
    expect(session).toMatchObject({ name: 'client-all-fields', state: 'starting', proxyUser: 'bob' });
    expect(await livy.deleteSession(session.id)).toBe(true);
  });

  it('waits until the session is idle, reporting each state it passes', async () => {
    const session = await livy.createSession({ kind: 'sql' });
    const states: string[] = [];
    await livy.waitForSessionIdle(session.id, { onState: (s) => states.push(s) });
    expect(states.at(-1)).toBe('idle');
    expect(await livy.getSessionState(session.id)).toEqual({ id: session.id, state: 'idle' });
    await livy.deleteSession(session.id);
  });

  it('gets a session by id and by name, and lists sessions page by page', async () => {
    const session = await livy.createSession({ kind: 'sql', name: 'client-by-name' });
    expect((await livy.getSession(session.id)).name).toBe('client-by-name');
    expect((await livy.getSession('client-by-name')).id).toBe(session.id);
    const page = await livy.listSessions({ from: 0, size: 100 });
    expect(page.total).toBeGreaterThanOrEqual(1);
    expect(page.sessions.map((s) => s.id)).toContain(session.id);
    await livy.deleteSession(session.id);
  });

  it('deletes a session; deleting it again resolves false (already gone), and a GET is a 404 LivyHttpError', async () => {
    const session = await livy.createSession({ kind: 'sql' });
    expect(await livy.deleteSession(session.id)).toBe(true);
    expect(await livy.deleteSession(session.id)).toBe(false);
    const error = await failure(livy.getSession(session.id));
    expect(error).toBeInstanceOf(LivyHttpError);
    expect(error).toMatchObject({ code: 'ORCH_LIVY_HTTP', status: 404, serverMessage: `Session '${session.id}' not found.` });
  });

  it('stops waiting at once when the session dies, with its state and last log lines in the error', async () => {
    const session = await livy.createSession({ kind: 'sql', conf: { 'duckdb.not_a_setting': '1' } });
    const error = await failure(livy.waitForSessionIdle(session.id));
    expect(error).toBeInstanceOf(LivySessionDeadError);
    expect(error).toMatchObject({ code: 'ORCH_LIVY_SESSION_DEAD', sessionId: session.id, state: 'dead' });
    expect(error.logTail.join('\n')).toContain('not_a_setting');
    expect(error.message).toContain('not_a_setting');
  });

  it('reports a refused kind as a 400 LivyHttpError carrying the server\'s {msg}', async () => {
    const error = await failure(livy.createSession({ kind: 'pyspark' }));
    expect(error).toMatchObject({ status: 400 });
    expect(error.serverMessage).toMatch(/kind 'pyspark' needs Spark/);
  });

  it('reports the session limit with Livy\'s text and a hint about --max-sessions', async () => {
    const made: number[] = [];
    let error;
    for (let i = 0; i < 6 && !error; i++) {
      try {
        made.push((await livy.createSession({ kind: 'sql' })).id);
      } catch (e) {
        error = e as LivyHttpError;
      }
    }
    expect(error).toMatchObject({ status: 400, serverMessage: 'Rejected, too many sessions are being created!' });
    expect(error!.message).toContain('--max-sessions');
    for (const id of made) await livy.deleteSession(id);
  });

  it('answers GET /version', async () => {
    expect(await livy.version()).toMatchObject({ version: '0.8.0', url: 'embedded' });
  });
});
