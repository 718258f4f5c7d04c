/**
 * Write-aside-then-swap for datasets on the local filesystem (the embedded backend): the
 * new directory replaces the old one with renames, so readers see the old dataset or the
 * new one, never a half-written one. Swaps of one target are serialised across processes
 * (two runs of one DAG writing the same output), and a swap cut short by a crash is
 * finished or recognised by the resumed try.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OrchError } from '../../errors.ts';
import { withPathLock, type PathLockOptions } from './path-lock.ts';

export class NothingWrittenError extends OrchError {
  constructor(staging: string) {
    super('ORCH_STATEMENT_WROTE_NOTHING', `the statement succeeded but wrote nothing to ${staging}; write the dataset to {{ staging_dir }}`);
  }
}

/** Throws NothingWrittenError unless the statement left a staging directory. */
export function requireStaging(staging: string): void {
  if (!existsSync(resolve(staging))) throw new NothingWrittenError(resolve(staging));
}

/** Replace `target` with `staging`, holding the target's lock; the previous dataset is removed only after the swap. */
export async function swapIntoPlace(staging: string, target: string, lock?: PathLockOptions): Promise<void> {
  await withPathLock(target, () => swapLocked(resolve(staging), resolve(target)), lock);
}

/**
 * For a try whose statement is known to have succeeded (its result was recorded) but whose
 * process died around the swap: swap if the staging directory is still there, else the swap
 * was done. Returns which.
 */
export async function finishSwap(staging: string, target: string, lock?: PathLockOptions): Promise<'swapped' | 'already'> {
  return withPathLock(target, () => {
    if (existsSync(resolve(staging))) {
      swapLocked(resolve(staging), resolve(target));
      return 'swapped';
    }
    if (existsSync(resolve(target))) return 'already';
    throw new NothingWrittenError(resolve(staging));
  }, lock);
}

function swapLocked(from: string, to: string): void {
  if (!existsSync(from)) throw new NothingWrittenError(from);
  mkdirSync(dirname(to), { recursive: true });
  const old = `${to}.old-${process.pid}-${Date.now()}`;
  if (existsSync(to)) renameSync(to, old);
  renameSync(from, to);
  rmSync(old, { recursive: true, force: true });
  // Under the lock nobody else is mid-swap: any other `.old-` beside the target is a crashed swap's.
  const prefix = `${basename(to)}.old-`;
  for (const name of readdirSync(dirname(to))) if (name.startsWith(prefix)) rmSync(join(dirname(to), name), { recursive: true, force: true });
}

/** An empty place for a new staging directory: DuckDB creates the directory but not its parent. */
export function prepareStaging(staging: string): void {
  discardStaging(staging);
  mkdirSync(dirname(resolve(staging)), { recursive: true });
}

/** Remove a staging directory, if any. */
export function discardStaging(staging: string): void {
  rmSync(resolve(staging), { recursive: true, force: true });
}
