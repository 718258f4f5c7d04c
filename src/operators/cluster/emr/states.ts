/** EMR cluster states as orch reads them. */

/** States a cluster never leaves: waiting on it is over. */
export const ENDED_STATES: ReadonlySet<string> = new Set(['TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS']);
/** States of a cluster that may still be (or become) usable. */
export const ACTIVE_STATES = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING'] as const;
