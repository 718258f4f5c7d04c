#!/usr/bin/env node
// The CLI is TypeScript run through tsx, the same loader that imports DAG files,
// so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
