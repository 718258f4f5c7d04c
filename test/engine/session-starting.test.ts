/**
 * A session that is still `starting` (on a cluster: while YARN launches the driver) refuses
 * statements with Livy's 500, and can be deleted before it ever became idle. The engine
 * starts sessions in milliseconds, so these tests hold the DuckDB connection back.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/engine/duckdb.ts';
import { DEFAULT_SETTINGS, Engine } from '../../src/engine/engine.ts';
import { createEngineServer } from '../../src/engine/server.ts';
import { http, until } from './support.ts';

let db: DuckDBInstance;
let engine: Engine;
let app: FastifyInstance;
let url: string;
let release: () => void = () => {};

beforeAll(async () => {
  db = await openDatabase(mkdtempSync(join(tmpdir(), 'orch-engine-starting-')), DEFAULT_SETTINGS.memoryLimit);
  const gated = async (): Promise<DuckDBConnection> => {
    await new Promise<void>((resolve) => (release = resolve));
    return db.connect();
  };
  engine = new Engine(db, DEFAULT_SETTINGS, gated);
  app = createEngineServer(engine, { csrf: false });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await engine.close();
  await app.close();
});

describe('a session still starting', () => {
  it("refuses a statement with 500 \"java.lang.IllegalStateException: Session is in state starting\", then runs once idle", async () => {
    const created = await http(url, 'POST', '/sessions', { body: { kind: 'sql' } });
    const early = await http(url, 'POST', `/sessions/${created.json.id}/statements`, { body: { code: 'SELECT 1' } });
    expect(early.status).toBe(500);
    expect(early.json).toBe('java.lang.IllegalStateException: Session is in state starting');
    expect((await http(url, 'GET', `/sessions/${created.json.id}/statements`)).json).toEqual({ total_statements: 0, statements: [] });
    release();
    await until(() => http(url, 'GET', `/sessions/${created.json.id}/state`), (r) => r.json.state === 'idle');
    expect((await http(url, 'POST', `/sessions/${created.json.id}/statements`, { body: { code: 'SELECT 1' } })).status).toBe(201);
  });

  it('can be deleted before it is idle', async () => {
    const created = await http(url, 'POST', '/sessions', { body: { kind: 'sql' } });
    const deleting = http(url, 'DELETE', `/sessions/${created.json.id}`);
    // Livy: DELETE → shutting_down → dead → gone; the state shows while the stop waits.
    await until(() => http(url, 'GET', `/sessions/${created.json.id}/state`), (r) => r.json.state === 'shutting_down');
    release();
    expect(await deleting).toMatchObject({ status: 200, json: { msg: 'deleted' } });
    expect((await http(url, 'GET', `/sessions/${created.json.id}`)).status).toBe(404);
  });
});
