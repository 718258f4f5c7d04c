/**
 * What only a real cluster produces, injected by a proxy in front of the engine; each test
 * names the Livy behaviour it reproduces.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LivyHttpError, LivySessionDeadError, LivySessionLostError } from '../../../src/integrations/livy/index.ts';
import type { LivyClient } from '../../../src/integrations/livy/index.ts';
import { ENDLESS_SQL, http } from '../../engine/support.ts';
import { nth, startFaultProxy } from './fault-proxy.ts';
import type { FaultProxy } from './fault-proxy.ts';
import { engineForTest, failure, testClient } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let proxy: FaultProxy;
let livy: LivyClient;

beforeAll(async () => {
  engine = await engineForTest({ csrf: true });
  proxy = await startFaultProxy(engine.url);
  livy = testClient(proxy.url);
});
afterAll(async () => {
  await livy.close();
  await proxy.close();
  await engine.close();
});
beforeEach(() => {
  proxy.faults.length = 0;
});

async function idle(): Promise<number> {
  const { id } = await livy.createSession({ kind: 'sql' });
  await livy.waitForSessionIdle(id);
  return id;
}

async function running(sid: number): Promise<number> {
  const st = await livy.submitStatement(sid, { code: ENDLESS_SQL });
  for (let i = 0; i < 200 && (await livy.getStatement(sid, st.id)).state !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
  return st.id;
}

describe('statement output', () => {
  it("keeps polling while a statement is 'available' with output null, until the output is set", async () => {
    // Reproduces Livy: the REPL marks the statement available before its output is attached.
    const sid = await idle();
    let nulls = 0;
    // Counted on 'available' answers only: on a busy machine the first polls may still see 'running'.
    const poll = new RegExp(`^/sessions/${sid}/statements/\\d+$`);
    proxy.faults.push((hit) =>
      hit.method === 'GET' && poll.test(hit.url) && nulls < 3
        ? { rewrite: (st) => (st.state === 'available' ? (nulls++, { ...st, output: null }) : st) }
        : undefined,
    );
    const done = await livy.runStatement(sid, { code: 'SELECT 5 AS five' });
    expect(nulls).toBeGreaterThan(0);
    expect(done.output).toMatchObject({ status: 'ok', data: { 'application/json': { data: [[5]] } } });
  });
});

describe('a session that dies', () => {
  it('mid-statement (YARN killed the driver): LivySessionDeadError with the log tail, not a hang', async () => {
    // Reproduces Livy: statement GETs answer 400 "Session isn't active." once the session is dead.
    const sid = await idle();
    const stid = await running(sid);
    proxy.faults.push(
      (hit) => (hit.method === 'GET' && hit.url === `/sessions/${sid}/statements/${stid}` ? { reply: 400, body: '{"msg":"requirement failed: Session isn\'t active."}' } : undefined),
      (hit) => (hit.method === 'GET' && hit.url === `/sessions/${sid}/state` ? { rewrite: (s) => ({ ...s, state: 'dead' }) } : undefined),
    );
    const error = await failure(livy.waitForStatement(sid, stid));
    expect(error).toBeInstanceOf(LivySessionDeadError);
    expect(error).toMatchObject({ sessionId: sid, state: 'dead' });
    expect(error.logTail.join('\n')).toContain(`statement ${stid} running`);
    proxy.faults.length = 0;
    await livy.deleteSession(sid);
  });

  it('while its statement still looks running: the periodic session check notices', async () => {
    // Reproduces Livy: the statement list is served from the server's cache while the app is gone.
    const sid = await idle();
    const stid = await running(sid);
    proxy.faults.push((hit) => (hit.method === 'GET' && hit.url === `/sessions/${sid}/state` ? { rewrite: (s) => ({ ...s, state: 'killed' }) } : undefined));
    const error = await failure(livy.waitForStatement(sid, stid, { sessionCheckEvery: 2 }));
    expect(error).toMatchObject({ code: 'ORCH_LIVY_SESSION_DEAD', state: 'killed' });
    proxy.faults.length = 0;
    await livy.deleteSession(sid);
  });

  it.each(['error', 'dead', 'killed', 'success', 'shutting_down'])('stops a session wait at once when the state is %s', async (state) => {
    // Reproduces Livy's final states (the docs omit some); waiting on them would never end.
    const { id } = await livy.createSession({ kind: 'sql' });
    proxy.faults.push((hit) => (hit.method === 'GET' && hit.url === `/sessions/${id}/state` ? { rewrite: (s) => ({ ...s, state }) } : undefined));
    const error = await failure(livy.waitForSessionIdle(id));
    expect(error).toBeInstanceOf(LivySessionDeadError);
    expect(error).toMatchObject({ state, sessionId: id });
    expect(proxy.count('GET', `/sessions/${id}/state`)).toBe(1);
    proxy.faults.length = 0;
    await livy.deleteSession(id);
  });

  it('keeps waiting through starting and recovering, which are not final', async () => {
    // Reproduces Livy: a session is `starting` for tens of seconds, `recovering` after a server restart.
    const { id } = await livy.createSession({ kind: 'sql' });
    proxy.faults.push(
      nth('GET', new RegExp(`^/sessions/${id}/state$`), { rewrite: (s) => ({ ...s, state: 'starting' }) }, 2),
      nth('GET', new RegExp(`^/sessions/${id}/state$`), { rewrite: (s) => ({ ...s, state: 'recovering' }) }, 1),
    );
    const states: string[] = [];
    await livy.waitForSessionIdle(id, { onState: (s) => states.push(s) });
    expect(states).toEqual(['starting', 'recovering', 'idle']);
    await livy.deleteSession(id);
  });
});

describe('a session that disappears', () => {
  it('deleted under a running statement (idle timeout, an operator): LivySessionLostError', async () => {
    const sid = await idle();
    const stid = await running(sid);
    await http(engine.url, 'DELETE', `/sessions/${sid}`);
    const error = await failure(livy.waitForStatement(sid, stid));
    expect(error).toBeInstanceOf(LivySessionLostError);
    expect(error.message).toMatch(/no longer knows session \d+ \(404/);
  });
});

describe('a poll that gets no answer in time', () => {
  it('is asked again: one timed-out poll does not end a running statement, which is followed to its output', async () => {
    // Reproduces the review of issue 7: a single poll timeout became LivySessionLostError, and the task then cancelled the statement.
    const sid = await idle();
    const patient = testClient(proxy.url, { timeoutMs: 1000 });
    try {
      const st = await patient.submitStatement(sid, { code: 'SELECT 11 AS eleven' });
      proxy.faults.push(nth('GET', new RegExp(`^/sessions/${sid}/statements/${st.id}$`), { hang: true }));
      const done = await patient.waitForStatement(sid, st.id);
      expect(done.output).toMatchObject({ status: 'ok', data: { 'application/json': { data: [[11]] } } });
      expect(proxy.count('GET', `/sessions/${sid}/statements/${st.id}`)).toBeGreaterThanOrEqual(2);
    } finally {
      await patient.close();
    }
    await livy.deleteSession(sid);
  });

  it('declares the session lost only once polls have gone unanswered for the whole window, telling the caller of each meanwhile', async () => {
    const sid = await idle();
    const stid = await running(sid);
    const patient = testClient(proxy.url, { timeoutMs: 300 });
    proxy.faults.push((hit) => (hit.method === 'GET' && hit.url.startsWith(`/sessions/${sid}/`) ? { hang: true } : undefined));
    const told: number[] = [];
    try {
      const error = await failure(patient.waitForStatement(sid, stid, { lostAfterMs: 1500, onUnanswered: (_err, outage) => told.push(outage.failures) }));
      expect(error).toBeInstanceOf(LivySessionLostError);
      expect(error.message).toMatch(/polls got no answer within 300 ms, for \d+ s and \d+ polls/);
      expect(told.length).toBeGreaterThanOrEqual(1);
      expect(told).toEqual(told.map((_, i) => i + 1));
    } finally {
      await patient.close();
    }
    proxy.faults.length = 0;
    expect((await livy.getStatement(sid, stid)).state).toBe('running');
    await livy.deleteSession(sid);
  });
});

describe('a cancel that does not stop the work', () => {
  it('is acknowledged (200 canceled) yet the statement runs on; deleting the session stops it (LIVY-786)', async () => {
    // Reproduces LIVY-786: Livy answers {"msg":"canceled"} but driver-side code keeps running.
    const sid = await idle();
    const stid = await running(sid);
    proxy.faults.push(nth('POST', /\/cancel$/, { reply: 200, body: '{"msg":"canceled"}' }));
    await livy.cancelStatement(sid, stid);
    expect((await livy.getStatement(sid, stid)).state).toBe('running');
    expect(await livy.deleteSession(sid)).toBe(true);
    expect((await failure(livy.getSession(sid))).status).toBe(404);
  });
});

describe('gateways and proxies', () => {
  it('rides out 502s from a gateway while polling a statement', async () => {
    // Reproduces: Knox/nginx answering 502 while Livy restarts its connection pool.
    const sid = await idle();
    proxy.faults.push(nth('GET', new RegExp(`^/sessions/${sid}/statements/\\d+$`), { reply: 502, body: 'Bad Gateway', contentType: 'text/plain' }, 2));
    const st = await livy.runStatement(sid, { code: 'SELECT 3 AS three' });
    expect(st.output?.status).toBe('ok');
  });

  it("reports Livy's CSRF rejection (HTML body) when a proxy strips X-Requested-By, and says so", async () => {
    // Reproduces Livy with livy.server.csrf-protection.enabled behind a header-stripping proxy.
    proxy.faults.push((hit) => (hit.method === 'POST' ? { dropHeaders: ['x-requested-by'] } : undefined));
    const error = await failure(livy.createSession({ kind: 'sql' }));
    expect(error).toBeInstanceOf(LivyHttpError);
    expect(error).toMatchObject({ status: 400, serverMessage: 'Missing Required Header for CSRF protection.' });
    expect(error.message).toContain('a proxy may strip it');
  });
});
