#!/usr/bin/env node
// The CLI is TypeScript run through tsx, the same loader that imports DAG files, so a
// fresh clone needs no build step. The DAG module hooks go in first: `orch/sdk` in a DAG
// file, wherever it lives, is then the very SDK module this process runs.
import { installDagModuleHooks } from '../src/core/dags/dag-modules.cjs';

await installDagModuleHooks();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
