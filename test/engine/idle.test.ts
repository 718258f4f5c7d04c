/**
 * `--idle-timeout`: an engine nobody uses stops by itself (a clean exit, saying why), like an
 * EMR cluster's auto-termination, and one with an open session or a running batch does not.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { parseEngineArgs } from '../../src/engine/args.ts';
import { startEngine } from '../../src/engine/index.ts';
import { startEngineProcess } from '../helpers/engine-process.ts';
import { ENDLESS_SQL, http, idleSession, until } from './support.ts';

const stopping = (label: string) => `orch engine stopping: no open session, no running batch and no HTTP request for ${label} (--idle-timeout)`;
const STOPPING = stopping('1s');
/**
 * For the engines that must stay up: long enough that a busy machine's delay between the
 * engine starting and the test's first request never looks like idleness.
 */
const KEPT = '5s';
const KEPT_MS = 5_000;

describe('an engine started with --idle-timeout', () => {
  it('stops by itself once nothing has happened for that long, exits 0 and says why', async () => {
    const engine = await startEngineProcess(['--idle-timeout', '1s']);
    expect(await engine.exited).toBe(0);
    expect(engine.stderr()).toContain(STOPPING);
    expect(engine.stderr()).toContain('orch engine stopped (idle timeout)');
  });

  it('keeps running while a session is open, however quiet, and stops once it is deleted', async () => {
    const engine = await startEngineProcess(['--idle-timeout', KEPT]);
    try {
      const sid = await idleSession(engine.url);
      // Longer than the timeout with an idle session and no request at all: the engine must still be up.
      await sleep(KEPT_MS + 2000);
      expect(engine.child.exitCode).toBeNull();
      expect(engine.stderr()).not.toContain('orch engine stopping');
      expect((await http(engine.url, 'DELETE', `/sessions/${sid}`)).status).toBe(200);
      expect(await engine.exited).toBe(0);
      expect(engine.stderr()).toContain(stopping(KEPT));
    } finally {
      await engine.stop('SIGKILL');
    }
  });

  it('keeps running while a batch runs, and stops once it is killed', async () => {
    const engine = await startEngineProcess(['--idle-timeout', KEPT]);
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'orch-engine-idle-')), 'endless.sql');
      writeFileSync(file, `${ENDLESS_SQL};\n`);
      const posted = await http(engine.url, 'POST', '/batches', { body: { file } });
      await until(() => http(engine.url, 'GET', `/batches/${posted.json.id}/state`), (r) => r.json.state === 'running');
      await sleep(KEPT_MS + 2000);
      expect(engine.child.exitCode).toBeNull();
      expect((await http(engine.url, 'DELETE', `/batches/${posted.json.id}`)).status).toBe(200);
      expect(await engine.exited).toBe(0);
      expect(engine.stderr()).toContain(stopping(KEPT));
    } finally {
      await engine.stop('SIGKILL');
    }
  });
});

describe('the --idle-timeout flag', () => {
  it('takes a duration as DAG files write them', () => {
    expect(parseEngineArgs(['--idle-timeout', '30m'])).toEqual({ idleTimeout: '30m' });
    expect(parseEngineArgs(['--idle-timeout', '0'])).toEqual({ idleTimeout: '0' });
  });

  it('refuses anything else with the usage line', () => {
    expect(() => parseEngineArgs(['--idle-timeout', 'soon'])).toThrow(/--idle-timeout: 'soon' is not a duration .*; 0 turns it off\nusage: engine/);
  });

  it('is refused by startEngine with ORCH_ENGINE_START when it is not a duration', async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-engine-idle-'));
    await expect(startEngine({ port: 0, home, idleTimeout: 'soon' })).rejects.toMatchObject({
      code: 'ORCH_ENGINE_START',
      message: expect.stringContaining("--idle-timeout: 'soon' is not a duration"),
    });
  });
});
