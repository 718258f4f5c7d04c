/**
 * The lock file is what `npm ci` installs on a fresh machine and in CI. An optional
 * dependency missing from it (a platform binary of DuckDB, say) makes `npm ci` refuse to
 * install and makes `npm install` rewrite the lock on every fresh clone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/dags.ts';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** Where npm would find `dep` required from the package at `from` (nested first, then hoisted). */
function resolveInLock(from: string, dep: string): LockEntry | undefined {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
    const entry = lock.packages[`${dir ? `${dir}/` : ''}node_modules/${dep}`];
    if (entry) return entry;
    if (!dir) return undefined;
  }
}

describe('package-lock.json', () => {
  it('lists every optional dependency of every package, for every platform (npm ci on a fresh clone)', () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
        if (!resolveInLock(path, dep)) missing.push(`${dep} (needed by ${path || 'the project'})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('matches package.json: every direct dependency is locked', () => {
    const root = lock.packages['']!;
    expect(root.dependencies).toEqual(pkg.dependencies);
    for (const dep of [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]) {
      expect(resolveInLock('', dep), dep).toBeDefined();
    }
  });
});
