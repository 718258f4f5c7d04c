/** Whether the process that owns a run can still be working on it. */
import { hostname } from 'node:os';
import type { DagRunRow } from '../../store/index.ts';
import { pidAlive, pidSpace, processIdentity } from '../../util/process.ts';

export interface OwnerCheck {
  /** Who asks: a scheduler in this very process is judged by its lease. Default: this process. */
  me?: { host: string; pid: number };
}

/**
 * True when the run's owner can no longer be working on it. When the owner recorded its
 * exact identity and we share its pid space (same kernel boot, same pid namespace), the
 * process answers, whatever the lease says: a dead owner — or a pid now held by another
 * process — is adopted at once, and a live owner keeps its runs even if its event loop was
 * blocked past the lease. Anywhere else (another machine, another container that happens to
 * have the same host name, a scheduler in this very process), the lease decides.
 */
export function ownerGone(run: DagRunRow, now: Date, check: OwnerCheck = {}): boolean {
  if (!run.ownerId || !run.leaseExpiresAt) return true;
  const me = check.me ?? { host: hostname(), pid: process.pid };
  const pid = run.ownerPid;
  const leaseOver = run.leaseExpiresAt <= now.toISOString();
  if (run.ownerHost !== me.host || pid === null || pid === me.pid) return leaseOver;
  if (run.ownerIdentity) {
    const space = pidSpace();
    if (!space || !run.ownerIdentity.startsWith(`${space}/`)) return leaseOver;
    return processIdentity(pid) !== run.ownerIdentity;
  }
  // An owner that could not record its identity (no /proc): a live pid is trusted, a dead one is gone.
  return !pidAlive(pid);
}
