// Worker that imports DAG files first, so a file that throws or never finishes importing
// is caught here (the worker can be terminated) instead of freezing the scheduler.
// Plain JavaScript: it must start without the TypeScript loader it then registers.
import { parentPort } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

parentPort.on('message', async ({ file }) => {
  try {
    const mod = await tsImport(file, import.meta.url);
    const dagExports = Object.entries(mod).filter(([, v]) => v && typeof v === 'object' && v[Symbol.for('orch.dag')] === true);
    parentPort.postMessage({ file, ok: true, dagExports: dagExports.map(([k]) => k) });
  } catch (err) {
    parentPort.postMessage({ file, ok: false, message: err?.message ?? String(err), stack: err?.stack ?? '' });
  }
});
