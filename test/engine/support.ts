/**
 * Test support for the engine: start one in a temp folder, speak raw HTTP to it (to check
 * wire shapes independently of our client), and wait for a condition with a bounded loop.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startEngine } from '../../src/engine/index.ts';
import type { EngineOptions, RunningEngine } from '../../src/engine/index.ts';

/** Start an engine on a free port with its own temp home. */
export async function engineForTest(options: EngineOptions = {}): Promise<RunningEngine & { home: string }> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'orch-engine-test-'));
  const engine = await startEngine({ port: 0, ...options, home });
  return { ...engine, home };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed body when JSON, else undefined. */
  json: any;
}

/** One HTTP request; `body` is sent as JSON, `raw` as-is. Sends X-Requested-By unless told not to. */
export async function http(
  base: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { body?: unknown; raw?: string; headers?: Record<string, string>; noRequestedBy?: boolean } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(options.noRequestedBy ? {} : { 'x-requested-by': 'test' }), ...options.headers };
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await request(base + path, { method, headers, body });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

/** Poll `probe` until `done` holds; fail with the last value after `tries` attempts. */
export async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, tries = 400, delayMs = 25): Promise<T> {
  let value = await probe();
  for (let i = 0; i < tries && !done(value); i++) {
    await sleep(delayMs);
    value = await probe();
  }
  if (!done(value)) throw new Error(`condition not reached; last value: ${JSON.stringify(value)}`);
  return value;
}

/** Create a `sql` session and wait until it is idle; returns its id. */
export async function idleSession(base: string, extra: Record<string, unknown> = {}): Promise<number> {
  const created = await http(base, 'POST', '/sessions', { body: { kind: 'sql', ...extra } });
  if (created.status !== 201) throw new Error(`session not created: ${created.status} ${created.text}`);
  const id = created.json.id as number;
  await until(() => http(base, 'GET', `/sessions/${id}/state`), (r) => r.json?.state === 'idle');
  return id;
}

/** Submit code and wait until the statement is finished (polling at most `tries` times); returns the statement JSON. */
export async function runStatement(base: string, sessionId: number, code: string, tries?: number): Promise<any> {
  const posted = await http(base, 'POST', `/sessions/${sessionId}/statements`, { body: { code } });
  if (posted.status !== 201) throw new Error(`statement not accepted: ${posted.status} ${posted.text}`);
  const done = await until(
    () => http(base, 'GET', `/sessions/${sessionId}/statements/${posted.json.id}`),
    (r) => r.json?.state === 'available' || r.json?.state === 'cancelled',
    tries,
  );
  return done.json;
}

/** A query that runs until it is interrupted (hours of work); used to test cancel and kill. */
export const ENDLESS_SQL = 'SELECT count(*) FROM range(10000000000000) t(x) WHERE x % 7 = 3';
