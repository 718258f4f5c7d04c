// Worker that imports DAG files first, so a file that throws or never finishes importing
// is caught here (the worker can be terminated) instead of freezing the scheduler.
// Plain JavaScript: it must start without the TypeScript loader it then registers.
import { parentPort } from 'node:worker_threads';
import { importDagFile, installDagModuleHooks } from './dag-modules.cjs';

await installDagModuleHooks();
// Load the compiler and the SDK (with zod) before saying ready: the first file's time limit
// must measure that file, not this worker's start-up.
const { isDag } = await import('orch/sdk');
parentPort.postMessage({ ready: true });

parentPort.on('message', async ({ file, load }) => {
  try {
    // The same load number as the scheduler's import: a worker kept between scans imports an edited file afresh.
    const mod = await importDagFile(file, load);
    const dagExports = Object.entries(mod).filter(([, v]) => isDag(v));
    parentPort.postMessage({ file, ok: true, dagExports: dagExports.map(([k]) => k) });
  } catch (err) {
    parentPort.postMessage({ file, ok: false, message: describe(err), stack: typeof err?.stack === 'string' ? err.stack : '' });
  }
});

/** Whatever the file threw, as text (a null-prototype object has no toString). */
function describe(err) {
  if (err instanceof Error) return err.message;
  try {
    return typeof err === 'object' && err !== null ? JSON.stringify(err) : String(err);
  } catch {
    return Object.prototype.toString.call(err);
  }
}
