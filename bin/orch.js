#!/usr/bin/env node
// The CLI is TypeScript loaded through orch's own module hooks, the same that import DAG
// files, so a fresh clone needs no build step: each .ts file is compiled by esbuild once and
// kept under orch's home (cache/compiled). The hooks go in first: `orch/sdk` in a DAG file,
// wherever it lives, is then the very SDK module this process runs.
import { readFileSync } from 'node:fs';

// `orch --version` needs nothing but package.json: answered before any loader starts.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { installDagModuleHooks } = await import('../src/core/dags/dag-modules.cjs');
  await installDagModuleHooks();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv);
}
