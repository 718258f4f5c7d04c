/**
 * Reading logs incrementally against the real engine (docs/livy-api.md, "Logs"): each line once,
 * only new lines asked for, and a note when the server's ring dropped lines in between. The
 * engine runs with small rings here so that overflow happens with a handful of statements.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LivyClient, LogLine } from '../../../src/integrations/livy/index.ts';
import { startFaultProxy } from './fault-proxy.ts';
import type { FaultProxy } from './fault-proxy.ts';
import { engineForTest, testClient } from './support.ts';

let engine: Awaited<ReturnType<typeof engineForTest>>;
let proxy: FaultProxy;
let livy: LivyClient;

beforeAll(async () => {
  engine = await engineForTest({ logLinesPerStream: 8 });
  proxy = await startFaultProxy(engine.url);
  livy = testClient(proxy.url);
});
afterAll(async () => {
  await livy.close();
  await proxy.close();
  await engine.close();
});

async function idle(): Promise<number> {
  const { id } = await livy.createSession({ kind: 'sql' });
  await livy.waitForSessionIdle(id);
  return id;
}

const texts = (lines: LogLine[]) => lines.map((l) => l.text);

describe('the incremental log reader', () => {
  it('returns each line once across reads, and nothing when nothing was written', async () => {
    const sid = await idle();
    const reader = livy.logReader('sessions', sid);
    const first = await reader.read();
    expect(texts(first.lines).join('\n')).toContain(`session ${sid} is idle`);
    await livy.runStatement(sid, { code: 'SELECT 1' });
    const second = await reader.read();
    expect(texts(second.lines)).toHaveLength(3);
    expect(texts(second.lines).join('\n')).toMatch(/statement 0 submitted[\s\S]*statement 0 running[\s\S]*statement 0 available/);
    expect(texts(second.lines).some((t) => texts(first.lines).includes(t))).toBe(false);
    expect((await reader.read()).lines).toEqual([]);
    expect(second.dropped).toEqual([]);
  });

  it('asks only from the end of what it has read (minus a few overlap lines), never the whole log again', async () => {
    const sid = await idle();
    const reader = livy.logReader('sessions', sid, { overlap: 2 });
    const first = await reader.read();
    const before = proxy.hits.length;
    await reader.read();
    const asked = proxy.hits.slice(before).filter((h) => h.url.startsWith(`/sessions/${sid}/log`));
    expect(asked).toHaveLength(1);
    const from = Number(new URL(asked[0]!.url, 'http://x').searchParams.get('from'));
    expect(from).toBe(1 + first.lines.filter((l) => l.stream === 'stdout').length - 2);
  });

  it('tells stdout from stderr lines', async () => {
    const sid = await idle();
    const reader = livy.logReader('sessions', sid);
    await reader.read();
    await livy.runStatement(sid, { code: 'SELECT * FROM missing' }, { returnErrors: true });
    const read = await reader.read();
    expect(read.lines.filter((l) => l.stream === 'stderr').map((l) => l.text).join('\n')).toContain('CatalogException');
    expect(read.lines.filter((l) => l.stream === 'stdout').map((l) => l.text).join('\n')).toContain('statement 0 running');
  });

  it('keeps every line exactly once while the ring is full and shifting, if it reads often enough', async () => {
    const sid = await idle();
    const reader = livy.logReader('sessions', sid, { overlap: 3 });
    const seen: string[] = [];
    const dropped: string[] = [];
    for (let i = 0; i < 6; i++) {
      await livy.runStatement(sid, { code: `SELECT ${i}` });
      const read = await reader.read();
      seen.push(...texts(read.lines));
      dropped.push(...read.dropped);
    }
    expect(dropped).toEqual([]);
    expect(new Set(seen).size).toBe(seen.length);
    for (let i = 0; i < 6; i++) expect(seen.filter((t) => t.includes(`statement ${i} available`))).toHaveLength(1);
  });

  it('says so when the ring dropped lines between two reads (more written than the server keeps)', async () => {
    const sid = await idle();
    const reader = livy.logReader('sessions', sid);
    await reader.read();
    for (let i = 0; i < 5; i++) await livy.runStatement(sid, { code: `SELECT ${i}` });
    const read = await reader.read();
    expect(read.dropped).toHaveLength(1);
    expect(read.dropped[0]).toMatch(/some stdout lines were dropped: the server keeps only its last 8 lines/);
    expect(texts(read.lines).join('\n')).toContain('statement 4 available');
  });

  it('reads the tail of a log without section headers, for error messages', async () => {
    const sid = await idle();
    const tail = await livy.logTail('sessions', sid, 5);
    expect(tail.length).toBeGreaterThan(0);
    expect(tail).not.toContain('stdout: ');
    expect(tail).not.toContain('\nstderr: ');
    expect(tail.at(-1)).toContain(`session ${sid} is idle`);
  });

  it('reads batch logs the same way', async () => {
    const file = join(engine.home, 'log-batch.sql');
    writeFileSync(file, 'SELECT 1 AS one;\nSELECT 2 AS two;\n');
    const batch = await livy.createBatch({ file });
    await livy.waitForBatch(batch.id);
    const read = await livy.logReader('batches', batch.id).read();
    expect(texts(read.lines).join('\n')).toMatch(/statement 1\/2 done[\s\S]*statement 2\/2 done/);
  });
});
