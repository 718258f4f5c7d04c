// How orch loads TypeScript — its own source and DAG files — the same in the CLI process,
// the import-probe worker and task worker threads: module-hooks.mjs compiles `.ts` files
// (cached under orch's home), maps `orch/sdk` from any folder and reloads edited helpers.
// CommonJS on purpose: its import() is Node's own even when the caller runs inside Vitest,
// which rewrites import() in ES modules and would resolve DAG files through Vite, without
// these hooks.
'use strict';
const { register, registerHooks } = require('node:module');
const { readFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const { join, resolve } = require('node:path');

const INSTALLED = Symbol.for('orch.dagModuleHooks');
const LOAD_MARK = 'orch-dag-load';

/** Register the TypeScript and DAG module hooks in this thread, once. */
function installDagModuleHooks() {
  globalThis[INSTALLED] ??= install();
  return globalThis[INSTALLED];
}

async function install() {
  // Stack traces name the line in the .ts file, not in the compiled output.
  process.setSourceMapsEnabled(true);
  const synchronous = typeof registerHooks === 'function';
  const data = {
    sdkUrl: pathToFileURL(join(__dirname, '../../sdk/index.ts')).href,
    orchSource: pathToFileURL(join(__dirname, '../..')).href + '/',
    cacheDir: join(orchHome(), 'cache', 'compiled'),
    synchronous,
  };
  // In-thread synchronous hooks where Node has them (22.15+); else the hooks thread.
  if (synchronous) {
    const hooks = await import('./module-hooks.mjs');
    hooks.initialize(data);
    registerHooks({ resolve: hooks.resolve, load: hooks.load });
  } else {
    register('./module-hooks.mjs', pathToFileURL(__filename), { data });
  }
}

/**
 * orch's home as the config resolves it (ORCH_HOME, else `home` in the config file, else
 * ./.orch), read here because these hooks go in before the config can be loaded.
 */
function orchHome() {
  if (process.env.ORCH_HOME) return resolve(process.env.ORCH_HOME);
  try {
    const home = JSON.parse(readFileSync(process.env.ORCH_CONFIG ?? 'orch.config.json', 'utf8')).home;
    if (typeof home === 'string') return resolve(home);
  } catch {
    // No config file, or one the config loader will report on.
  }
  return resolve('.orch');
}

/** Import a DAG file; a new `load` number imports it (and its own helper modules) afresh. */
async function importDagFile(file, load) {
  await installDagModuleHooks();
  return import(`${pathToFileURL(file).href}?${LOAD_MARK}=${load}`);
}

module.exports = { installDagModuleHooks, importDagFile };
