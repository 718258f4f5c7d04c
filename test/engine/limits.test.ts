/**
 * The engine honours `--memory-limit` and spills to a temp folder under its own home, so a
 * laptop run of a big transform slows down instead of being killed.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/engine/index.ts';
import { engineForTest, idleSession, runStatement } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let sid: number;

beforeAll(async () => {
  engine = await engineForTest({ memoryLimit: '40MB' });
  sid = await idleSession(engine.url);
});
afterAll(async () => engine.close());

describe('memory', () => {
  it("sets DuckDB's memory_limit and temp_directory (<home>/tmp)", async () => {
    const st = await runStatement(engine.url, sid, "SELECT current_setting('memory_limit') AS m, current_setting('temp_directory') AS t");
    const [[memory, temp]] = st.output.data['application/json'].data;
    expect(memory).toBe('38.1 MiB');
    expect(temp).toBe(join(engine.home, 'tmp'));
  });

  it('spills a table larger than the memory limit to <home>/tmp instead of failing', async () => {
    const create = await runStatement(
      engine.url,
      sid,
      'CREATE TABLE wide AS SELECT md5(range::VARCHAR) || md5((range * 7)::VARCHAR) AS s FROM range(1500000)',
    );
    expect(create.output.status).toBe('ok');
    const spilled = await runStatement(engine.url, sid, 'SELECT sum(temporary_storage_bytes) > 0 AS spilled FROM duckdb_memory()');
    expect(spilled.output.data['application/json'].data).toEqual([[true]]);
    expect(readdirSync(join(engine.home, 'tmp')).length).toBeGreaterThan(0);
    await runStatement(engine.url, sid, 'DROP TABLE wide');
  });
});

describe('start-up', () => {
  it('refuses a memory limit DuckDB cannot parse, with ORCH_ENGINE_START', async () => {
    await expect(startEngine({ port: 0, home: join(engine.home, 'other'), memoryLimit: 'lots' })).rejects.toMatchObject({
      code: 'ORCH_ENGINE_START',
      message: expect.stringContaining('--memory-limit lots'),
    });
  });

  it('refuses a port that is taken, with ORCH_ENGINE_START', async () => {
    const port = Number(new URL(engine.url).port);
    await expect(startEngine({ port, home: join(engine.home, 'other2') })).rejects.toMatchObject({
      code: 'ORCH_ENGINE_START',
      message: expect.stringContaining(`cannot listen on 127.0.0.1:${port}`),
    });
  });
});
