/**
 * `orch standalone` for the web UI tests and benchmarks: a real server on a free port,
 * waited for through /api/v1/health. No vitest here, so bench/ scripts can use it.
 */
import { createServer } from 'node:net';
import { PATIENCE_MS, spawnOrch, waitFor, type OrchProcess } from './cli.ts';
import type { Workspace } from './dags.ts';

export interface Standalone { url: string; proc: OrchProcess; api<T = unknown>(path: string, init?: { method?: string; body?: unknown }): Promise<T> }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startStandalone(ws: Workspace, timeoutMs = PATIENCE_MS): Promise<Standalone> {
  const port = await freePort();
  const proc = spawnOrch(ws, ['standalone', '--port', String(port)]);
  const url = `http://127.0.0.1:${port}`;
  let healthy = false;
  const poll = setInterval(() => {
    fetch(`${url}/api/v1/health`).then((r) => { if (r.ok) healthy = true; }, () => {});
  }, 200);
  try {
    await waitFor('orch standalone to answer /api/v1/health', () => healthy || (proc.child.exitCode !== null ? 'exited' : false), timeoutMs,
      () => `stdout:\n${proc.stdout}\nstderr:\n${proc.stderr}`);
  } finally { clearInterval(poll); }
  if (!healthy) throw new Error(`orch standalone exited\nstdout:\n${proc.stdout}\nstderr:\n${proc.stderr}`);
  return { url, proc, api: apiOf(url) };
}

export function apiOf(url: string): Standalone['api'] {
  return async <T>(path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', 'x-orch-csrf': '1' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
}

