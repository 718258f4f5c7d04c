/** Checks on local processes by pid. */
import { readFileSync, readlinkSync } from 'node:fs';

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

/**
 * What this machine's process ids mean: the kernel's boot id and this process's pid
 * namespace. Two processes with the same key see the same pids; undefined where /proc is not
 * there (macOS).
 */
export function pidSpace(): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return undefined;
  }
}

/**
 * Who the process `pid` is, exactly: the pid space, the pid and when it started (field 22 of
 * /proc/<pid>/stat, in clock ticks since boot). A pid reused by another process gets another
 * identity. Undefined if the process is gone or /proc is not there.
 */
export function processIdentity(pid: number): string | undefined {
  const space = pidSpace();
  if (!space) return undefined;
  try {
    // Fields from 3 on follow the ") " that closes field 2 (the command, which may hold spaces).
    const starttime = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
    return `${space}/${pid}/${starttime}`;
  } catch {
    return undefined;
  }
}
