/**
 * The engine runs any SQL it is sent with its user's files, so it is never open to the
 * network: beyond loopback it will not start without auth, and with auth every route but
 * GET /version wants the token or the basic credentials — from orch's client and from curl.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEngine, type RunningEngine } from '../../src/engine/index.ts';
import { resolveEngineAuth } from '../../src/engine/auth.ts';
import { LivyClient } from '../../src/integrations/livy/index.ts';
import { orch } from '../helpers/cli.ts';
import { workspace } from '../helpers/dags.ts';

const run = promisify(execFile);
const TOKEN = 'a'.repeat(24) + 'secret-token';
let home: string;
let engine: RunningEngine | undefined;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'orch-engine-auth-'));
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  rmSync(home, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
// Asynchronous: the engine answering curl runs in this process.
const curlStatus = async (url: string, ...args: string[]) => (await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...args, url])).stdout;

describe('orch engine beyond loopback', () => {
  it('refuses to start without auth, exit 2, saying how to give it', async () => {
    await expect(startEngine({ port: 0, host: '0.0.0.0', home })).rejects.toMatchObject({ code: 'ORCH_ENGINE_AUTH_REQUIRED' });
    const ws = workspace();
    try {
      const r = await orch(ws, ['engine', '--host', '0.0.0.0', '--port', '0']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error ORCH_ENGINE_AUTH_REQUIRED: --host 0\.0\.0\.0 is reachable from other machines, .*--token-file <file>/);
      expect(r.stdout).not.toContain('listening');
    } finally {
      ws.cleanup();
    }
  });

  it('with a token, also demands X-Requested-By on what changes state (CSRF)', async () => {
    engine = await startEngine({ port: 0, host: '0.0.0.0', home, auth: { token: TOKEN } });
    const url = engine.url.replace('0.0.0.0', '127.0.0.1');
    const post = (headers: Record<string, string>) => fetch(`${url}/sessions`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...headers }, body: '{"kind":"sql"}' });
    expect((await post({})).status).toBe(400);
    expect((await post({ 'x-requested-by': 'test' })).status).toBe(201);
  });
});

describe('orch engine with auth', () => {
  it('answers 401 in Livy’s shape without the token, and serves orch’s client and curl with it', async () => {
    engine = await startEngine({ port: 0, home, auth: { token: TOKEN } });
    // Health checks stay open.
    expect((await get(`${engine.url}/version`)).status).toBe(200);
    const denied = await get(`${engine.url}/sessions`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('Bearer');
    expect(await denied.json()).toEqual({ msg: expect.stringContaining('authentication required') });
    expect((await get(`${engine.url}/sessions`, { authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);

    const client = new LivyClient({ url: engine.url, headers: { authorization: `Bearer ${TOKEN}` } });
    try {
      const session = await client.createSession({ kind: 'sql', name: 'auth-test' });
      expect((await client.listSessions()).sessions.map((s) => s.id)).toContain(session.id);
    } finally {
      await client.close();
    }
    const unauthorised = new LivyClient({ url: engine.url, retry: { retries: 0 } });
    try {
      await expect(unauthorised.listSessions()).rejects.toMatchObject({ code: 'ORCH_LIVY_HTTP', status: 401 });
    } finally {
      await unauthorised.close();
    }

    expect(await curlStatus(`${engine.url}/sessions`)).toBe('401');
    expect(await curlStatus(`${engine.url}/sessions`, '-H', `Authorization: Bearer ${TOKEN}`)).toBe('200');
    expect(await curlStatus(`${engine.url}/version`)).toBe('200');
  });

  it('takes HTTP basic credentials instead', async () => {
    engine = await startEngine({ port: 0, home, auth: { username: 'etl', password: 'long-enough-password' } });
    expect(await curlStatus(`${engine.url}/sessions`, '-u', 'etl:long-enough-password')).toBe('200');
    expect(await curlStatus(`${engine.url}/sessions`, '-u', 'etl:wrong-password')).toBe('401');
    expect(await curlStatus(`${engine.url}/sessions`, '-u', 'other:long-enough-password')).toBe('401');
  });
});

describe('where the secrets come from', () => {
  it('reads them from files or the environment; a missing, empty or short one is refused, exit 2', async () => {
    const file = join(home, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    expect(resolveEngineAuth({ tokenFile: file }, {})).toEqual({ token: TOKEN, username: undefined, password: undefined });
    expect(resolveEngineAuth({}, { ORCH_ENGINE_USER: 'etl', ORCH_ENGINE_PASSWORD: 'long-enough-password' })).toMatchObject({ username: 'etl' });
    expect(resolveEngineAuth({}, {})).toBeUndefined();
    expect(() => resolveEngineAuth({ tokenFile: join(home, 'missing') }, {})).toThrow(/--token-file .*missing: ENOENT/);
    expect(() => resolveEngineAuth({}, { ORCH_ENGINE_TOKEN: 'short' })).toThrow(/at least 16 characters/);
    expect(() => resolveEngineAuth({ authUser: 'etl' }, {})).toThrow(/needs both a user .* and a password/);
    const ws = workspace();
    try {
      const r = await orch(ws, ['engine', '--port', '0', '--token-file', join(home, 'missing')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error ORCH_ENGINE_AUTH_INVALID: --token-file \S+missing: ENOENT/);
    } finally {
      ws.cleanup();
    }
  });
});
