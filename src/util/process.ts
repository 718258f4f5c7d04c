/** Checks on local processes by pid. */
import { readFileSync } from 'node:fs';

/** True while a process with this pid exists and has not exited (a zombie has). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; Z = exited, not yet reaped by its parent.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true;
  }
}

let bootTimeMs: number | undefined;

/**
 * When the process `pid` started (ms since the epoch), from /proc; undefined where /proc is
 * not there. Tells a live owner from an unrelated process that reused its pid.
 */
export function processStartedAt(pid: number): number | undefined {
  try {
    bootTimeMs ??= Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]) * 1000;
    // Field 22 (starttime, in clock ticks since boot) counts from after the ") " that ends field 2.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[19]);
    // USER_HZ is 100 on every Linux orch runs on; /proc gives no portable way to read it.
    return Number.isFinite(ticks) && bootTimeMs ? bootTimeMs + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}
