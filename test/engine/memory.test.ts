/**
 * The engine's memory: bounded by default (half the machine), and given back to the system
 * when a session ends — issue 7 found an engine holding 1.8 GB after its only session, which
 * had run a huge query, was deleted.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine } from '../../src/engine/index.ts';
import { resolveMemoryLimit } from '../../src/engine/memory.ts';
import { startEngineProcess, type EngineProcess } from '../helpers/engine-process.ts';
import { engineForTest, http, idleSession, runStatement, until } from './support.ts';

/** Resident memory of a process in MiB, as the kernel counts it. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

/** DuckDB's way of printing a size (`11.7 GiB`, `38.1 MiB`) in bytes. */
function sizeBytes(text: string): number {
  const match = /^([\d.]+) (KiB|MiB|GiB|TiB)$/.exec(text);
  if (!match) throw new Error(`not a DuckDB size: ${text}`);
  return Number(match[1]) * 1024 ** (['KiB', 'MiB', 'GiB', 'TiB'].indexOf(match[2]!) + 1);
}

/** What a user would call the machine's memory: RAM, or the container's limit when lower. */
function machineBytes(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < totalmem() ? constrained : totalmem();
}

async function memoryLimitOf(url: string): Promise<number> {
  const sid = await idleSession(url);
  const st = await runStatement(url, sid, "SELECT current_setting('memory_limit')");
  await http(url, 'DELETE', `/sessions/${sid}`);
  return sizeBytes(st.output.data['application/json'].data[0][0]);
}

// 20 million groups: a hash table of several hundred MB, freed when the query ends.
const BIG_AGGREGATION = 'SELECT count(*) AS groups FROM (SELECT x, count(*) FROM range(20000000) t(x) GROUP BY x)';

/**
 * Run `work` (a big aggregation) while sampling the engine's RSS, then `finish` it, and wait
 * until the RSS is back near where it started. Without a release the process keeps more than
 * half of what the query took, for good; with one it drops to a few MB above the start.
 */
async function expectMemoryBack(pid: number, work: () => Promise<void>, finish: () => Promise<void>): Promise<void> {
  const baseline = rssMiB(pid);
  let peak = baseline;
  const sample = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  await work().finally(() => clearInterval(sample));
  peak = Math.max(peak, rssMiB(pid));
  // The query must really have used memory, or the check below proves nothing.
  expect(peak - baseline).toBeGreaterThan(300);
  await finish();
  const ceiling = baseline + 0.2 * (peak - baseline);
  // Up to two minutes: on a busy machine the allocator gives pages back slowly, but it must give them back.
  await until(async () => ({ baseline, peak, ceiling, rss: rssMiB(pid) }), ({ rss }) => rss < ceiling, 4800);
}

describe('memory after a session or batch ends', () => {
  let engine: EngineProcess;
  beforeAll(async () => (engine = await startEngineProcess()));
  afterAll(async () => engine.stop());

  it('an engine whose only session ran a big aggregation gives the memory back once the session is deleted', async () => {
    const sid = await idleSession(engine.url);
    await expectMemoryBack(
      engine.child.pid!,
      async () => {
        const st = await runStatement(engine.url, sid, BIG_AGGREGATION, 2400);
        expect(st.output.data['application/json'].data).toEqual([[20_000_000]]);
      },
      async () => {
        expect((await http(engine.url, 'DELETE', `/sessions/${sid}`)).status).toBe(200);
      },
    );
  });

  it('a batch that ran a big aggregation gives the memory back when it finishes, before anyone deletes it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orch-engine-memory-')), 'big.sql');
    writeFileSync(file, `${BIG_AGGREGATION};\n`);
    await expectMemoryBack(
      engine.child.pid!,
      async () => {
        const posted = await http(engine.url, 'POST', '/batches', { body: { file } });
        const done = await until(() => http(engine.url, 'GET', `/batches/${posted.json.id}/state`), (r) => r.json.state !== 'starting' && r.json.state !== 'running', 2400);
        expect(done.json.state).toBe('success');
      },
      async () => {},
    );
  });
});

describe('the memory limit', () => {
  let engine: Awaited<ReturnType<typeof engineForTest>>;
  beforeAll(async () => (engine = await engineForTest()));
  afterAll(async () => engine.close());

  it("is half of the machine's memory by default", async () => {
    expect((await memoryLimitOf(engine.url)) / (machineBytes() / 2)).toBeCloseTo(1, 1);
  });

  it('can be given as a share of the machine: --memory-limit 25%', async () => {
    const quarter = await engineForTest({ memoryLimit: '25%' });
    try {
      expect((await memoryLimitOf(quarter.url)) / (machineBytes() / 4)).toBeCloseTo(1, 1);
    } finally {
      await quarter.close();
    }
  });

  it('refuses a share of 0% or over 100% with ORCH_ENGINE_START', async () => {
    for (const share of ['0%', '150%']) {
      await expect(startEngine({ port: 0, home: join(engine.home, 'other'), memoryLimit: share })).rejects.toMatchObject({
        code: 'ORCH_ENGINE_START',
        message: expect.stringContaining(`--memory-limit ${share}: a share of the machine's memory must be above 0% and at most 100%`),
      });
    }
  });

  it('resolves unset, a share and a size for DuckDB', () => {
    const eightGiB = 8 * 1024 ** 3;
    expect(resolveMemoryLimit(undefined, eightGiB)).toBe('4096MiB');
    expect(resolveMemoryLimit('25%', eightGiB)).toBe('2048MiB');
    expect(resolveMemoryLimit('2GB', eightGiB)).toBe('2GB');
  });
});
