import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO, SDK } from '../helpers/dags.ts';

describe('the SDK in the editor', () => {
  it('makes a misspelled task option or trigger rule a type error', async () => {
    const dir = mkdtempSync(join(REPO, 'node_modules', '.orch-typecheck-'));
    try {
      const file = join(dir, 'typo.ts');
      writeFileSync(
        file,
        `import { dag } from ${JSON.stringify(SDK)};
const d = dag({ id: 'typo' });
d.task({ id: 'a', retires: 2, run: () => 1 });
d.task({ id: 'b', triggerRule: 'all_sucess', run: () => 1 });
d.task({ id: 'c', run: (ctx) => ctx.params.anything });
export default d;
`,
      );
      const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
      const args = ['--noEmit', '--strict', '--target', 'es2023', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--allowImportingTsExtensions', '--skipLibCheck', '--types', 'node', file];
      const out = await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: REPO }).then(
        () => '',
        (err: { stdout: string }) => err.stdout,
      );
      expect(out).toContain("'retires' does not exist");
      expect(out).toContain('"all_sucess"');
      // Untyped params are an open record: no error for the third task.
      expect(out.split('\n').filter((l) => l.includes('typo.ts(')).length).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
