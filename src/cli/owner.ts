/** Who is driving a run, in words: what cancel, mark and `runs show` tell a user happens next. */
import { ownerGone } from '../core/leases/owner.ts';
import type { DagRunRow } from '../store/index.ts';

export type Driver = { alive: true; who: string } | { alive: false; why: string };

/** The live process driving `run`, or why there is none. */
export function driverOf(run: DagRunRow, now: Date): Driver {
  const who = `pid ${run.ownerPid ?? '?'} on ${run.ownerHost ?? '?'}`;
  if (!ownerGone(run, now)) return { alive: true, who };
  if (!run.ownerId) return { alive: false, why: 'the process that ran it let it go (a stopped scheduler, or Ctrl-C pressed twice)' };
  if (run.leaseExpiresAt && run.leaseExpiresAt <= now.toISOString()) return { alive: false, why: `its process (${who}) stopped renewing its lease` };
  return { alive: false, why: `its process (${who}) is gone` };
}

/** The sentence for a run nobody drives: who will pick it up. */
export const adopters = (dagId: string): string => `\`orch scheduler\` or \`orch run ${dagId}\``;
