// How orch imports DAG files, the same in the CLI process and in the import-probe worker:
// TypeScript through tsx, plus resolve-hook.mjs (`orch/sdk` from any folder; edited
// helpers reloaded). CommonJS on purpose: its import() is Node's own even when the caller
// runs inside Vitest, which rewrites import() in ES modules and would resolve DAG files
// through Vite, without these hooks.
'use strict';
const { register, registerHooks } = require('node:module');
const { pathToFileURL } = require('node:url');
const { join } = require('node:path');

const INSTALLED = Symbol.for('orch.dagModuleHooks');
const LOAD_MARK = 'orch-dag-load';

/** Register tsx and the DAG resolve hook in this thread, once. */
function installDagModuleHooks() {
  globalThis[INSTALLED] ??= install();
  return globalThis[INSTALLED];
}

async function install() {
  // tsx's CommonJS build of this API cannot find its own hooks file; its ES build can.
  const tsx = await import('tsx/esm/api');
  tsx.register();
  const data = {
    sdkUrl: pathToFileURL(join(__dirname, '../../sdk/index.ts')).href,
    orchSource: pathToFileURL(join(__dirname, '../..')).href + '/',
  };
  // Installed after tsx so that it runs first (hooks run last-registered first, and
  // synchronous hooks before asynchronous ones): `orch/sdk` never reaches tsx's lookup.
  if (typeof registerHooks === 'function') {
    const hook = await import('./resolve-hook.mjs');
    hook.initialize(data);
    registerHooks({ resolve: hook.resolve });
  } else {
    register('./resolve-hook.mjs', pathToFileURL(__filename), { data });
  }
}

/** Import a DAG file; a new `load` number imports it (and its own helper modules) afresh. */
async function importDagFile(file, load) {
  await installDagModuleHooks();
  return import(`${pathToFileURL(file).href}?${LOAD_MARK}=${load}`);
}

module.exports = { installDagModuleHooks, importDagFile };
