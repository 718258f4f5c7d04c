/**
 * Write-aside-then-swap for datasets on the local filesystem (the embedded backend): the
 * new directory replaces the old one with renames, so readers see the old dataset or the
 * new one, never a half-written one.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OrchError } from '../../errors.ts';

export class NothingWrittenError extends OrchError {
  constructor(staging: string) {
    super('ORCH_STATEMENT_WROTE_NOTHING', `the statement succeeded but wrote nothing to ${staging}; write the dataset to {{ staging_dir }}`);
  }
}

/** Replace `target` with `staging`; the previous dataset is removed only after the swap. */
export function swapIntoPlace(staging: string, target: string): void {
  const from = resolve(staging);
  const to = resolve(target);
  if (!existsSync(from)) throw new NothingWrittenError(from);
  mkdirSync(dirname(to), { recursive: true });
  const old = `${to}.old-${process.pid}-${Date.now()}`;
  if (existsSync(to)) renameSync(to, old);
  renameSync(from, to);
  rmSync(old, { recursive: true, force: true });
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
