/** Checks on local processes, for the embedded backend's engines. */
import { readFileSync } from 'node:fs';
import { pidAlive } from '../../util/process.ts';

export { pidAlive };

/** True when `pid` is an `orch engine` (a reused pid must never be killed by mistake). */
export function isEngineProcess(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('engine');
  } catch {
    // No /proc (macOS): fall back to "the process exists".
    return pidAlive(pid);
  }
}

/** Wait until `pid` has exited, up to `ms`; true if it did. */
export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
