/**
 * Swapping a dataset into place from several processes at once (two runs of one DAG writing
 * the same output directory): the swaps are serialised, and a holder killed mid-swap does
 * not leave the lock stuck.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finishSwap, swapIntoPlace } from '../../../src/operators/cluster/local-output.ts';
import { REPO } from '../../helpers/dags.ts';

let dir: string;
const children: ReturnType<typeof spawn>[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'orch-swap-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function worker(...args: string[]): { done: Promise<{ code: number | null; stderr: string }>; stdout: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/operators/cluster/swap-worker.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr }))), stdout: () => stdout };
}

/** The dataset at `target`: its file names and the one content they must share. */
function dataset(target: string): { files: string[]; contents: Set<string> } {
  const files = readdirSync(target).sort();
  return { files, contents: new Set(files.map((f) => readFileSync(join(target, f), 'utf8'))) };
}

describe('swapIntoPlace', () => {
  it('never interleaves the swaps of two processes writing the same output directory', async () => {
    // Reproduces issue 7 (11): two runs of one DAG swapping into one directory at once.
    const target = join(dir, 'out', 'movies');
    const runs = [worker('swap', target, 'a', '150'), worker('swap', target, 'b', '150')];
    const results = await Promise.all(runs.map((r) => r.done));
    expect(results).toEqual([
      { code: 0, stderr: '' },
      { code: 0, stderr: '' },
    ]);
    const { files, contents } = dataset(target);
    expect(files).toEqual(['part-0', 'part-1']);
    expect(contents.size).toBe(1);
    expect(readdirSync(join(dir, 'out'))).toEqual(['movies']);
  }, 120_000);

  it('is not blocked for good by a holder that was killed mid-swap', async () => {
    const target = join(dir, 'movies');
    const holder = worker('hold', target);
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (holder.stdout().includes('holding')) resolve(clearInterval(check));
      }, 20);
      void holder.done.then(({ stderr }) => reject(new Error(`the holder exited: ${stderr}`)));
    });
    const staging = join(dir, 'movies.tmp-1');
    mkdirSync(staging);
    writeFileSync(join(staging, 'part-0'), 'new');
    let swapped = false;
    const swap = swapIntoPlace(staging, target).then(() => (swapped = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(swapped).toBe(false);
    children[0]!.kill('SIGKILL');
    await swap;
    expect(dataset(target)).toEqual({ files: ['part-0'], contents: new Set(['new']) });
  }, 60_000);
});

describe('finishSwap (a resumed try whose statement had succeeded)', () => {
  it('swaps a staging directory that is still there, and recognises a swap already done', async () => {
    const target = join(dir, 'movies');
    const staging = join(dir, 'movies.tmp-1');
    mkdirSync(staging);
    writeFileSync(join(staging, 'part-0'), 'new');
    expect(await finishSwap(staging, target)).toBe('swapped');
    expect(await finishSwap(staging, target)).toBe('already');
    expect(dataset(target)).toEqual({ files: ['part-0'], contents: new Set(['new']) });
  });
});
