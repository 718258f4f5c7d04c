/** What the Livy operators report when a try cannot go on: its work is gone, or cannot be found. */
import { OrchError } from '../../errors.ts';

/** A resumed try's session or batch no longer exists and its outcome was not recorded: the try is tried again. */
export class WorkGoneError extends OrchError {
  constructor(what: 'session' | 'batch', name: string, tryNumber: number, why: string) {
    super('ORCH_LIVY_WORK_GONE', `the Livy ${what} '${name}' of try ${tryNumber} is gone (${why}); the try cannot be resumed`);
  }
}

/**
 * Resuming, orch could not ask Livy whether the try's batch exists. Submitting again could run
 * it twice, so the try fails instead; a retry (a new try, a new batch name) starts afresh.
 */
export class WorkLookupError extends OrchError {
  constructor(what: 'session' | 'batch', name: string, tryNumber: number, url: string, reason: string, options?: ErrorOptions) {
    super(
      'ORCH_LIVY_LOOKUP_FAILED',
      `could not tell whether the Livy ${what} '${name}' of try ${tryNumber} exists at ${url} (${reason}); ` +
        'orch does not submit it again, which could run it twice — the try fails, and a retry submits a new one',
      options,
    );
  }
}
