/** Checks on local processes, for the embedded backend's engines. */
import { readFileSync } from 'node:fs';
import { pidAlive } from '../../util/process.ts';

/** True when `pid` is a live `orch engine` (a reused pid must never be killed by mistake). */
export function isLiveEngine(pid: number): boolean {
  if (!pid || !pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('engine');
  } catch {
    // No /proc (macOS): "the process exists" is all we can tell.
    return true;
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

/** SIGTERM an engine, SIGKILL it if it has not exited within `graceMs`; true if it needed the SIGKILL. */
export async function stopEngine(pid: number, graceMs = 15_000): Promise<boolean> {
  process.kill(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return false;
  process.kill(pid, 'SIGKILL');
  await waitForExit(pid, 5_000);
  return true;
}
