/** Temporary DAG folders and ORCH_HOMEs for tests: real files, real SQLite. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SDK = join(REPO, 'src/sdk/index.ts');
export const CLI = join(REPO, 'bin/orch.js');

export interface Workspace {
  root: string;
  dags: string;
  home: string;
  db: string;
  /** Write a DAG file; `body` may use `dag`, `z` (imported from the SDK). */
  writeDag(name: string, body: string): string;
  cleanup(): void;
}

/** A fresh folder with dags/ (an ESM package) and an ORCH_HOME. */
export function workspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'orch-test-'));
  const dags = join(root, 'dags');
  const home = join(root, 'home');
  mkdirSync(dags);
  writeFileSync(join(dags, 'package.json'), '{"type":"module"}\n');
  return {
    root,
    dags,
    home,
    db: join(home, 'orch.db'),
    writeDag(name, body) {
      const file = join(dags, name.endsWith('.ts') ? name : `${name}.ts`);
      writeFileSync(file, `import { dag, z } from ${JSON.stringify(SDK)};\n${body}\n`);
      return file;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
