/**
 * Swapping a dataset into place from several processes at once (two runs of one DAG writing
 * the same output directory): the swaps are serialised — whatever each process's TMPDIR (a
 * PrivateTmp service, another user) — and a holder killed mid-swap does not leave the lock stuck.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finishSwap } from '../../../src/operators/cluster/local-output.ts';
import { waitFor } from '../../helpers/cli.ts';
import { REPO } from '../../helpers/dags.ts';
import { listed } from '../../helpers/movielens.ts';

let dir: string;
const children: ReturnType<typeof spawn>[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'orch-swap-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A swap-worker process with its own temporary directory (TMPDIR), as another user or a PrivateTmp service has. */
function worker(...args: string[]): { done: Promise<{ code: number | null; stderr: string }>; stdout: () => string; exited: () => boolean } {
  const ownTmp = mkdtempSync(join(dir, 'tmp-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/operators/cluster/swap-worker.ts'), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: ownTmp },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr }))), stdout: () => stdout, exited: () => child.exitCode !== null };
}

/** The dataset at `target`: its file names and the one content they must share. */
function dataset(target: string): { files: string[]; contents: Set<string> } {
  const files = readdirSync(target).sort();
  return { files, contents: new Set(files.map((f) => readFileSync(join(target, f), 'utf8'))) };
}

describe('swapIntoPlace', () => {
  it('never interleaves the swaps of two processes writing the same output directory, each with its own TMPDIR', async () => {
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
    expect(listed(join(dir, 'out'))).toEqual(['movies']);
  });

  it('waits for a holder in a process with another TMPDIR, and is not blocked for good once that holder is killed mid-swap', async () => {
    // Reproduces the review of issue 7: the lock lived in tmpdir(), so a process with another TMPDIR swapped right through it.
    const target = join(dir, 'out', 'movies');
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'part-0'), 'old');
    const holder = worker('hold', target);
    await waitFor('the holder to take the lock', () => holder.stdout().includes('holding') || holder.exited());
    expect(holder.stdout()).toContain('holding');

    const swapper = worker('swap', target, 'new', '1');
    await waitFor('the second swap to wait or finish', () => swapper.stdout().includes('waiting') || swapper.exited());
    expect(swapper.stdout()).toContain('waiting');
    expect(dataset(target)).toEqual({ files: ['part-0'], contents: new Set(['old']) });

    children[0]!.kill('SIGKILL');
    expect(await swapper.done).toEqual({ code: 0, stderr: '' });
    expect(dataset(target)).toEqual({ files: ['part-0', 'part-1'], contents: new Set(['new-0']) });
    // The lock is where every process writing the output sees it: beside the output, hidden.
    expect(existsSync(join(dir, 'out', '.movies.lock'))).toBe(true);
  });
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
