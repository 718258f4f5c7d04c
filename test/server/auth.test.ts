/** Who may call the API: tokens, basic auth, CSRF on mutating calls, loopback hosts without auth; and the UI's files. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workspace, type Workspace } from '../helpers/dags.ts';
import { ALPHA, CSRF, testServer, type TestServer } from './support.ts';

let ws: Workspace;
let s: TestServer | undefined;

beforeEach(() => {
  ws = workspace();
  ws.writeDag('alpha', ALPHA);
});

afterEach(async () => {
  await s?.stop();
  s = undefined;
  ws.cleanup();
});

describe('a token', () => {
  it('is needed on every API route but health, as a bearer header (or ?token= on the event stream)', async () => {
    s = await testServer(ws, { auth: { token: 'sekret-token' } });
    const none = await s.app.inject({ url: '/api/v1/dags' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('ORCH_AUTH_REQUIRED');
    expect((await s.app.inject({ url: '/api/v1/dags', headers: { authorization: 'Bearer wrong-token' } })).statusCode).toBe(401);
    expect((await s.app.inject({ url: '/api/v1/dags?token=sekret-token' })).statusCode).toBe(401);
    expect((await s.app.inject({ url: '/api/v1/dags', headers: { authorization: 'Bearer sekret-token' } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: '/api/v1/events?token=wrong' })).statusCode).toBe(401);
    const health = await s.app.inject({ url: '/api/v1/health' });
    expect(health.json()).toMatchObject({ authRequired: true });
    // With auth, other host names may be served (behind a proxy, on a LAN).
    expect((await s.app.inject({ url: '/api/v1/dags', headers: { authorization: 'Bearer sekret-token', host: 'orch.example:8080' } })).statusCode).toBe(200);
    const post = await s.app.inject({ method: 'POST', url: '/api/v1/dags/alpha/runs', headers: { ...CSRF }, payload: {} });
    expect(post.statusCode).toBe(401);
  });
});

describe('basic auth', () => {
  it('asks the browser for credentials and takes the right pair only', async () => {
    s = await testServer(ws, { auth: { username: 'ana', password: 'pass-word-1' } });
    const none = await s.app.inject({ url: '/api/v1/dags' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm="orch"/);
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    expect((await s.app.inject({ url: '/api/v1/dags', headers: basic('ana', 'wrong') })).statusCode).toBe(401);
    expect((await s.app.inject({ url: '/api/v1/dags', headers: basic('bob', 'pass-word-1') })).statusCode).toBe(401);
    expect((await s.app.inject({ url: '/api/v1/dags', headers: basic('ana', 'pass-word-1') })).statusCode).toBe(200);
  });
});

describe('CSRF and hosts', () => {
  it('refuses a mutating call without X-Orch-Csrf or from another origin', async () => {
    s = await testServer(ws);
    const url = '/api/v1/dags/alpha/runs';
    const noHeader = await s.app.inject({ method: 'POST', url, payload: {} });
    expect(noHeader.statusCode).toBe(403);
    expect(noHeader.json().error).toMatchObject({ code: 'ORCH_CSRF', message: expect.stringMatching(/X-Orch-Csrf: 1/) });
    const foreign = await s.app.inject({ method: 'POST', url, payload: {}, headers: { ...CSRF, origin: 'http://evil.example', host: '127.0.0.1:8080' } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('ORCH_CSRF');
    const patch = await s.app.inject({ method: 'PATCH', url: '/api/v1/dags/alpha', payload: { isPaused: true } });
    expect(patch.statusCode).toBe(403);
    expect(s.store.runs.list({ dagId: 'alpha' })).toHaveLength(0);
    expect(s.store.dags.isPaused('alpha')).toBe(false);
    const same = await s.app.inject({ method: 'POST', url, payload: {}, headers: { ...CSRF, origin: 'http://127.0.0.1:8080', host: '127.0.0.1:8080' } });
    expect(same.statusCode).toBe(201);
  });

  it('without auth, answers only loopback Host names', async () => {
    s = await testServer(ws);
    for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080', '127.0.0.1']) {
      expect((await s.app.inject({ url: '/api/v1/health', headers: { host } })).statusCode, host).toBe(200);
    }
    for (const host of ['evil.example', 'evil.example:8080', '10.0.0.1:8080', 'localhost.evil.example']) {
      const r = await s.app.inject({ url: '/api/v1/dags', headers: { host } });
      expect(r.statusCode, host).toBe(403);
      expect(r.json().error.code).toBe('ORCH_HOST_REFUSED');
    }
  });
});

describe('the UI files', () => {
  it('serves hashed assets for a year, index.html fresh with the CSP, and index.html for the UI paths', async () => {
    const dist = join(ws.root, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="app"></div><script type="module" src="/assets/app-1a2b.js"></script>');
    writeFileSync(join(dist, 'assets/app-1a2b.js'), 'console.log(1)');
    s = await testServer(ws, { webDist: dist });
    const index = await s.app.inject({ url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('id="app"');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self';/);
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const deep = await s.app.inject({ url: '/dags/alpha/runs/manual__x?tab=graph' });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toContain('id="app"');
    const asset = await s.app.inject({ url: '/assets/app-1a2b.js' });
    expect(asset.body).toBe('console.log(1)');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await s.app.inject({ url: '/assets/gone-9z.js' })).statusCode).toBe(404);
    const api = await s.app.inject({ url: '/api/v1/nope' });
    expect(api.statusCode).toBe(404);
    expect(api.json().error.code).toBe('ORCH_ROUTE_NOT_FOUND');
  });

  it('says the UI was not built when web/dist is missing', async () => {
    s = await testServer(ws, { webDist: join(ws.root, 'no-dist') });
    const res = await s.app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/web UI has not been built/);
    expect((await s.app.inject({ url: '/api/v1/health' })).statusCode).toBe(200);
  });
});
