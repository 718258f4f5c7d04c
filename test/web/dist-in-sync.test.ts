import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, expect, test } from 'vitest';

// web/dist is committed so `npm install` needs no build step; this keeps it honest.
const repo = join(import.meta.dirname, '..', '..');
const committed = join(repo, 'web', 'dist');
const out = mkdtempSync(join(tmpdir(), 'orch-web-dist-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else found.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return found;
}

test('the committed web/dist is what `npm run build:web` makes of web/src', () => {
  execFileSync(process.execPath, [join(repo, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web', '--outDir', out, '--emptyOutDir', '--logLevel', 'error'],
    { cwd: repo, stdio: 'pipe' });
  const want = files(out);
  const have = files(committed);
  const hint = 'web/dist is out of date: run `npm run build:web` and commit web/dist';
  expect([...have.keys()].sort(), hint).toEqual([...want.keys()].sort());
  for (const [name, bytes] of want) expect(have.get(name)?.equals(bytes), `${hint} (${name} differs)`).toBe(true);
});
