/** Whether the process that owns a run can still be working on it. */
import { hostname } from 'node:os';
import type { DagRunRow } from '../../store/index.ts';
import { pidAlive, processStartedAt } from '../../util/process.ts';

export interface OwnerCheck {
  /** The lease length owners use (for telling a reused pid from the owner). Default 30 s. */
  leaseMs?: number;
  /** Who asks: a scheduler in this very process is judged by its lease. Default: this process. */
  me?: { host: string; pid: number };
}

/**
 * True when the run's owner can no longer be working on it. On this machine the process
 * itself answers, whatever the lease says: a dead owner is adopted at once, and a live one
 * keeps its runs even if its event loop was blocked past the lease. Elsewhere (or for
 * another scheduler in this very process), the lease decides.
 */
export function ownerGone(run: DagRunRow, now: Date, check: OwnerCheck = {}): boolean {
  if (!run.ownerId || !run.leaseExpiresAt) return true;
  const me = check.me ?? { host: hostname(), pid: process.pid };
  const pid = run.ownerPid;
  if (run.ownerHost === me.host && pid !== null && pid !== me.pid) {
    if (!pidAlive(pid)) return true;
    // A pid reused by a process that started after the owner's last renewal is not the owner.
    const started = processStartedAt(pid);
    const lastRenewal = Date.parse(run.leaseExpiresAt) - (check.leaseMs ?? 30_000);
    return started !== undefined && started > lastRenewal + 2_000;
  }
  return run.leaseExpiresAt <= now.toISOString();
}
