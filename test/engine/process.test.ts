/**
 * `orch engine` as a process: the one listening line on stdout, clean shutdown on SIGTERM and
 * SIGINT (sessions closed first), and a usage error for bad flags.
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEngineArgs } from '../../src/engine/args.ts';
import { runEngineCommand } from '../../src/engine/index.ts';
import { startEngineProcess } from '../helpers/engine-process.ts';
import { http, idleSession } from './support.ts';

describe('the engine process', () => {
  it('prints "orch engine listening on http://127.0.0.1:PORT", serves Livy, and exits 0 on SIGTERM', async () => {
    const engine = await startEngineProcess();
    expect(engine.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const sid = await idleSession(engine.url);
    await http(engine.url, 'POST', `/sessions/${sid}/statements`, { body: { code: 'SELECT 1' } });
    expect(await engine.stop('SIGTERM')).toBe(0);
    expect(engine.stderr()).toContain('orch engine stopped (SIGTERM)');
  });

  it('exits 0 on SIGINT too', async () => {
    const engine = await startEngineProcess();
    expect(await engine.stop('SIGINT')).toBe(0);
  });

  it('exits 2 with the usage line on an unknown flag', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/engine/main.ts', '--turbo'], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown option '--turbo'");
    expect(result.stderr).toContain('usage: engine [--port N]');
  });
});

describe('orch engine that cannot start', () => {
  it('says why in one line with its code, ORCH_ENGINE_START, and exits 1: a port that is taken', async () => {
    const engine = await startEngineProcess();
    try {
      const port = new URL(engine.url).port;
      const home = mkdtempSync(join(tmpdir(), 'orch-engine-taken-'));
      const result = spawnSync(process.execPath, ['bin/orch.js', 'engine', '--port', port, '--home', home], { cwd: resolve(import.meta.dirname, '../..'), encoding: 'utf8', timeout: 60_000 });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^error ORCH_ENGINE_START: orch engine could not start: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`))]);
    } finally {
      await engine.stop('SIGTERM');
    }
  });
});

describe('runEngineCommand', () => {
  it('prints one listening line and, on SIGTERM, closes every session before resolving 0', async () => {
    const out: string[] = [];
    const signals = new EventEmitter();
    const home = mkdtempSync(join(tmpdir(), 'orch-engine-cmd-'));
    const running = runEngineCommand({ port: 0, home }, { stdout: { write: (t: string) => out.push(t) }, stderr: { write: () => true }, signals });
    for (let i = 0; i < 200 && out.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(out).toHaveLength(1);
    const url = /^orch engine listening on (\S+)\n$/.exec(out[0]!)?.[1];
    expect(url).toBeDefined();
    await idleSession(url!);
    signals.emit('SIGTERM', 'SIGTERM');
    expect(await running).toBe(0);
    await expect(http(url!, 'GET', '/version')).rejects.toThrow();
  });
});

describe('engine flags', () => {
  it('parse --port, --host, --max-sessions, --memory-limit, --csrf, --home and where the auth secrets are', () => {
    expect(parseEngineArgs(['--port', '8998', '--host', '0.0.0.0', '--max-sessions', '4', '--memory-limit', '2GB', '--csrf', '--home', '/x'])).toEqual({
      port: 8998, host: '0.0.0.0', maxSessions: 4, memoryLimit: '2GB', csrf: true, home: '/x',
    });
    expect(parseEngineArgs(['--token-file', '/t', '--auth-user', 'etl', '--auth-password-file', '/p']).authFrom).toEqual({ tokenFile: '/t', authUser: 'etl', authPasswordFile: '/p' });
  });

  it('refuse a missing or non-numeric value', () => {
    expect(() => parseEngineArgs(['--port'])).toThrow('--port needs a value');
    expect(() => parseEngineArgs(['--max-sessions', 'many'])).toThrow("--max-sessions must be a non-negative integer, got 'many'");
  });
});
