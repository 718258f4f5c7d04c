/**
 * The transport layer through a fault-injecting proxy in front of the real engine: headers
 * on every request, the per-request timeout, which calls are retried and which never are,
 * and how each of Livy's error body shapes becomes a message.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { MockAgent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LivyConnectionError, LivyHttpError, LivyTimeoutError } from '../../../src/integrations/livy/index.ts';
import { backoffDelay, DEFAULT_RETRY } from '../../../src/integrations/livy/retry.ts';
import { nth, startFaultProxy } from './fault-proxy.ts';
import type { FaultProxy } from './fault-proxy.ts';
import { engineForTest, failure, testClient } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let proxy: FaultProxy;

beforeAll(async () => {
  engine = await engineForTest();
  proxy = await startFaultProxy(engine.url);
});
afterAll(async () => {
  await proxy.close();
  await engine.close();
});
beforeEach(() => {
  proxy.faults.length = 0;
  proxy.hits.length = 0;
});

describe('headers', () => {
  it('sends X-Requested-By, custom headers and basic auth on every request, polls included', async () => {
    const livy = testClient(proxy.url, { headers: { 'X-Knox-Token': 'tok-1' }, auth: { username: 'ann', password: 's3cret' } });
    const { id } = await livy.createSession({ kind: 'sql' });
    await livy.waitForSessionIdle(id);
    const st = await livy.runStatement(id, { code: 'SELECT 1' });
    await livy.logReader('sessions', id).read();
    await livy.cancelStatement(id, st.id);
    await livy.deleteSession(id);
    await livy.close();
    expect(proxy.hits.length).toBeGreaterThan(6);
    const expectedAuth = `Basic ${Buffer.from('ann:s3cret').toString('base64')}`;
    for (const hit of proxy.hits) {
      expect(hit.headers['x-requested-by'], `${hit.method} ${hit.url}`).toBe('orch');
      expect(hit.headers['x-knox-token'], `${hit.method} ${hit.url}`).toBe('tok-1');
      expect(hit.headers.authorization, `${hit.method} ${hit.url}`).toBe(expectedAuth);
    }
    expect(proxy.hits.some((h) => h.method === 'GET' && /\/statements\/\d+$/.test(h.url))).toBe(true);
  });
});

describe('the dispatcher', () => {
  it('can be replaced (an undici MockAgent here), keeping the base path and the headers', async () => {
    // Reproduces a Livy behind Knox: the base URL carries a path prefix.
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('http://knox.test')
      .intercept({ path: '/gateway/default/livy/v1/version', method: 'GET', headers: { 'x-requested-by': 'orch' } })
      .reply(200, { version: '0.7.1-incubating' }, { headers: { 'content-type': 'application/json' } });
    const livy = testClient('http://knox.test/gateway/default/livy/v1/', { dispatcher: agent });
    expect((await livy.version()).version).toBe('0.7.1-incubating');
    agent.assertNoPendingInterceptors();
    await agent.close();
  });
});

describe('timeouts', () => {
  it('fails a request that gets no answer with LivyTimeoutError', async () => {
    // Reproduces: a Livy server wedged in a long GC pause, or a half-open connection.
    proxy.faults.push(nth('GET', /^\/version$/, { hang: true }, 10));
    const livy = testClient(proxy.url, { timeoutMs: 300, retry: { retries: 0 } });
    const error = await failure(livy.version());
    expect(error).toBeInstanceOf(LivyTimeoutError);
    expect(error).toMatchObject({ code: 'ORCH_LIVY_TIMEOUT', timeoutMs: 300 });
    await livy.close();
  });
});

describe('retries', () => {
  it('retries a GET answered 502, 503 and 504 (a gateway in front of a restarting Livy), then succeeds', async () => {
    let status = 501;
    proxy.faults.push(nth('GET', /^\/version$/, () => ({ reply: ++status, body: '<html><title>Bad Gateway</title></html>', contentType: 'text/html' }), 3));
    const livy = testClient(proxy.url);
    expect((await livy.version()).version).toBe('0.8.0');
    expect(proxy.count('GET', '/version')).toBe(4);
    await livy.close();
  });

  it('retries a GET whose connection was reset', async () => {
    proxy.faults.push(nth('GET', /^\/sessions$/, { reset: true }));
    const livy = testClient(proxy.url);
    expect((await livy.listSessions()).from).toBe(0);
    expect(proxy.count('GET', '/sessions')).toBe(2);
    await livy.close();
  });

  it('retries a DELETE answered 503', async () => {
    const livy = testClient(proxy.url);
    const { id } = await livy.createSession({ kind: 'sql' });
    proxy.faults.push(nth('DELETE', /^\/sessions\/\d+$/, { reply: 503, body: '"Service Unavailable"' }));
    expect(await livy.deleteSession(id)).toBe(true);
    expect(proxy.count('DELETE', `/sessions/${id}`)).toBe(2);
    await livy.close();
  });

  it('never retries a POST, even on 502: Livy may already have created the session', async () => {
    proxy.faults.push(nth('POST', /^\/sessions$/, { reply: 502, body: '<html><head><title>502 Bad Gateway</title></head></html>', contentType: 'text/html' }));
    const livy = testClient(proxy.url);
    const error = await failure(livy.createSession({ kind: 'sql' }));
    expect(error).toBeInstanceOf(LivyHttpError);
    expect(error).toMatchObject({ status: 502, serverMessage: '502 Bad Gateway' });
    expect(proxy.count('POST', '/sessions')).toBe(1);
    await livy.close();
  });

  it('never retries a POST whose connection was reset, and says the request may have been applied', async () => {
    proxy.faults.push(nth('POST', /^\/sessions$/, { reset: true }));
    const livy = testClient(proxy.url);
    const error = await failure(livy.createSession({ kind: 'sql' }));
    expect(error).toBeInstanceOf(LivyConnectionError);
    expect(error.message).toContain('may or may not have been applied');
    expect(proxy.count('POST', '/sessions')).toBe(1);
    await livy.close();
  });

  it('gives up after the configured retries with LivyConnectionError when nothing listens', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as AddressInfo;
        server.close(() => resolve(p));
      });
    });
    const livy = testClient(`http://127.0.0.1:${port}`, { retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 20 } });
    const error = await failure(livy.version());
    expect(error).toBeInstanceOf(LivyConnectionError);
    expect(error).toMatchObject({ code: 'ORCH_LIVY_UNREACHABLE', method: 'GET' });
    expect(error.reason).toContain('ECONNREFUSED');
    await livy.close();
  });

  it('backs off exponentially, capped, with jitter', () => {
    expect(backoffDelay(0, DEFAULT_RETRY, () => 0.5)).toBe(250);
    expect(backoffDelay(1, DEFAULT_RETRY, () => 0.5)).toBe(500);
    expect(backoffDelay(10, DEFAULT_RETRY, () => 0.5)).toBe(2000);
    expect(backoffDelay(0, DEFAULT_RETRY, () => 0)).toBe(200);
    expect(backoffDelay(0, DEFAULT_RETRY, () => 1)).toBe(300);
  });
});

describe('error bodies', () => {
  it('reads the message from {"msg"}, a bare JSON string, an HTML page, and an empty body', async () => {
    const livy = testClient(proxy.url, { retry: { retries: 0 } });
    proxy.faults.push(
      nth('GET', /^\/sessions\/1$/, { reply: 404, body: '{"msg":"Session \'1\' not found."}' }),
      nth('GET', /^\/sessions\/2$/, { reply: 500, body: '"java.lang.NullPointerException"' }),
      nth('GET', /^\/sessions\/3$/, { reply: 401, body: '<html><body><h1>Unauthorized</h1></body></html>', contentType: 'text/html' }),
      nth('GET', /^\/sessions\/4$/, { reply: 500, body: '' }),
    );
    expect(await failure(livy.getSession(1))).toMatchObject({ status: 404, serverMessage: "Session '1' not found." });
    expect(await failure(livy.getSession(2))).toMatchObject({ status: 500, serverMessage: 'java.lang.NullPointerException' });
    const html = await failure(livy.getSession(3));
    expect(html).toMatchObject({ status: 401, serverMessage: 'Unauthorized' });
    expect(html.message).toContain('set basic auth or headers');
    expect(await failure(livy.getSession(4))).toMatchObject({ status: 500, serverMessage: 'HTTP 500 with an empty body' });
    await livy.close();
  });

  it('adds a hint to a 403 (access denied)', async () => {
    proxy.faults.push(nth('GET', /^\/sessions\/5$/, { reply: 403, body: '{"msg":"User \'ann\' does not have access"}' }));
    const livy = testClient(proxy.url);
    const error = await failure(livy.getSession(5));
    expect(error).toMatchObject({ status: 403, serverMessage: "User 'ann' does not have access" });
    expect(error.message).toContain('check proxyUser');
    await livy.close();
  });
});
