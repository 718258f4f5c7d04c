/**
 * The repository stands alone: a user of orch has only what is in it, so no file may send the
 * reader to documents kept outside it (issue 7 found comments and docs citing a sibling
 * `shared` folder), and every `docs/…` page a file cites must exist.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/dags.ts';

/** Every file of the working tree, outside node_modules and .git. */
function repositoryFiles(dir: string = REPO): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === '.git') continue;
    const path = join(dir, entry);
    const stat = lstatSync(path);
    if (stat.isDirectory()) files.push(...repositoryFiles(path));
    else if (stat.isFile()) files.push(path);
  }
  return files;
}

// Spelled in pieces so that this file does not match itself.
const OUTSIDE = ['..' + '/shared', ...['livy-rest', 'movielens', 'design'].map((name) => `shared/${name}` + '.md')];

describe('the repository', () => {
  it("cites no document kept outside it (the sibling shared folder's Livy, MovieLens and design pages)", () => {
    const offenders: string[] = [];
    for (const file of repositoryFiles()) {
      const text = readFileSync(file, 'latin1');
      for (const needle of OUTSIDE) if (text.includes(needle)) offenders.push(`${relative(REPO, file)}: ${needle}`);
    }
    expect(offenders).toEqual([]);
  });

  it('has every docs/… page that its code, tests and docs cite', () => {
    const missing: string[] = [];
    const cited = /\bdocs\/[\w./-]+\.md\b/g;
    for (const file of repositoryFiles()) {
      if (!/\.(ts|mjs|js|md|sql|scala)$/.test(file)) continue;
      for (const [page] of readFileSync(file, 'utf8').matchAll(cited)) {
        try {
          lstatSync(join(REPO, page));
        } catch {
          missing.push(`${relative(REPO, file)}: ${page}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
