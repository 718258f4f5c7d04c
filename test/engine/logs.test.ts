/**
 * Session logs: Livy's `stdout:`/`stderr:` sections, bounded rings, and the exact
 * `from`/`size`/`total` semantics of `GET /sessions/{id}/log` (docs/livy-api.md, "Logs").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineRing, SessionLog, sliceLog } from '../../src/engine/log-ring.ts';
import { engineForTest, http, idleSession, runStatement } from './support.ts';

describe('sliceLog, as Livy\'s serializeLogs', () => {
  const lines = ['a', 'b', 'c', 'd', 'e'];

  it('defaults to the last 100 lines when from and size are missing', () => {
    const many = Array.from({ length: 150 }, (_, i) => String(i));
    expect(sliceLog(many, undefined, undefined)).toEqual({ from: 50, total: 150, log: many.slice(50) });
  });

  it('reads from a given from, size lines, and reports total (not size)', () => {
    expect(sliceLog(lines, 1, 2)).toEqual({ from: 1, total: 5, log: ['b', 'c'] });
  });

  it('treats a missing or negative from as the tail: from = max(0, total − size)', () => {
    expect(sliceLog(lines, undefined, 2)).toEqual({ from: 3, total: 5, log: ['d', 'e'] });
    expect(sliceLog(lines, -1, 2)).toEqual({ from: 3, total: 5, log: ['d', 'e'] });
    expect(sliceLog(lines, undefined, 10)).toEqual({ from: 0, total: 5, log: lines });
  });

  it('treats a negative size as all lines', () => {
    expect(sliceLog(lines, undefined, -1)).toEqual({ from: 0, total: 5, log: lines });
    expect(sliceLog(lines, 2, -1)).toEqual({ from: 2, total: 5, log: ['c', 'd', 'e'] });
  });

  it('answers a from past the end with no lines', () => {
    expect(sliceLog(lines, 9, 3)).toEqual({ from: 9, total: 5, log: [] });
  });
});

describe('the log rings', () => {
  it('drop the oldest line when full', () => {
    const ring = new LineRing(3);
    for (const line of ['1', '2', '3', '4']) ring.push(line);
    expect(ring.lines()).toEqual(['2', '3', '4']);
    expect(ring.dropped).toBe(1);
  });

  it('serve stdout then stderr, each after its header, bounded per stream', () => {
    const log = new SessionLog(2);
    log.raw('o1\no2\no3');
    log.error('e1');
    expect(log.lines()).toEqual(['stdout: ', 'o2', 'o3', '\nstderr: ', expect.stringMatching(/ERROR e1$/)]);
  });
});

describe('GET /sessions/{id}/log', () => {
  let engine: Awaited<ReturnType<typeof engineForTest>>;
  let url: string;
  let sid: number;

  beforeAll(async () => {
    engine = await engineForTest({ logLinesPerStream: 6 });
    url = engine.url;
    sid = await idleSession(url);
    await runStatement(url, sid, 'SELECT 1');
    await runStatement(url, sid, 'SELECT * FROM missing_table');
  });
  afterAll(async () => engine.close());

  it('answers {id, from, total, log} with stdout: and stderr: sections', async () => {
    const r = await http(url, 'GET', `/sessions/${sid}/log?from=0&size=-1`);
    expect(Object.keys(r.json).sort()).toEqual(['from', 'id', 'log', 'total']);
    expect(r.json.id).toBe(sid);
    const log: string[] = r.json.log;
    expect(log[0]).toBe('stdout: ');
    const stderrAt = log.indexOf('\nstderr: ');
    expect(stderrAt).toBeGreaterThan(0);
    expect(log.slice(1, stderrAt).join('\n')).toMatch(/INFO statement 0 available/);
    expect(log.slice(stderrAt + 1).join('\n')).toMatch(/ERROR statement 1 failed: CatalogException/);
    expect(r.json.total).toBe(log.length);
  });

  it('applies size 100 by default and the tail rule when from is missing', async () => {
    const all = (await http(url, 'GET', `/sessions/${sid}/log?size=-1`)).json;
    const tail = (await http(url, 'GET', `/sessions/${sid}/log?size=3`)).json;
    expect(tail).toEqual({ id: sid, from: all.total - 3, total: all.total, log: all.log.slice(-3) });
    expect((await http(url, 'GET', `/sessions/${sid}/log`)).json.log).toEqual(all.log);
  });

  it('answers a non-numeric from with 400 {msg}', async () => {
    const r = await http(url, 'GET', `/sessions/${sid}/log?from=abc`);
    expect(r.status).toBe(400);
    expect(r.json.msg).toContain('For input string: "abc"');
  });

  it('keeps a bounded ring per stream: total stops growing while the content moves on', async () => {
    const before = (await http(url, 'GET', `/sessions/${sid}/log?size=-1`)).json;
    for (let i = 0; i < 4; i++) await runStatement(url, sid, `SELECT ${i}`);
    const after = (await http(url, 'GET', `/sessions/${sid}/log?size=-1`)).json;
    // 6 stdout lines + 1 stderr line + 2 headers, whatever was written.
    expect(after.total).toBe(9);
    expect(after.total).toBe(before.total);
    expect(after.log).not.toEqual(before.log);
  });
});
