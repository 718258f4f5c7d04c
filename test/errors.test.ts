import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/dags.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('error codes', () => {
  it('documents every error code the code can raise in docs/errors.md', () => {
    const codes = new Set(sources(join(REPO, 'src')).flatMap((f) => readFileSync(f, 'utf8').match(/'ORCH_[A-Z_]+'/g) ?? []));
    const doc = readFileSync(join(REPO, 'docs/errors.md'), 'utf8');
    const missing = [...codes].map((c) => c.slice(1, -1)).filter((c) => !doc.includes(`\`${c}\``));
    expect(codes.size).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});
