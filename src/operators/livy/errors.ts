/** What the Livy operators report when a try cannot go on: its work is gone, or cannot be found. */
import { OrchError } from '../../errors.ts';
import type { TaskContext } from '../../sdk/index.ts';

/** A resumed try's session or batch no longer exists and its outcome was not recorded: the try is tried again. */
export class WorkGoneError extends OrchError {
  constructor(what: 'session' | 'batch', name: string, tryNumber: number, why: string) {
    super('ORCH_LIVY_WORK_GONE', `the Livy ${what} '${name}' of try ${tryNumber} is gone (${why}); the try cannot be resumed`);
  }
}

/**
 * Resuming, orch could not ask Livy whether the try's batch, session or statement exists.
 * Submitting again could run it twice, and deleting it could end work that runs fine, so the
 * try fails and leaves it as it is; the retry (a new try, a new name) deletes it before it
 * submits its own.
 */
export class WorkLookupError extends OrchError {
  constructor(what: 'session' | 'batch' | 'statement', name: string, tryNumber: number, url: string, reason: string, options?: ErrorOptions) {
    const subject = what === 'statement' ? `the statement of try ${tryNumber} runs in the Livy session '${name}'` : `the Livy ${what} '${name}' of try ${tryNumber} exists`;
    super(
      'ORCH_LIVY_LOOKUP_FAILED',
      `could not tell whether ${subject} at ${url} (${reason}); ` +
        'orch does not submit it again, which could run it twice, nor delete it — the try fails, and a retry deletes it before submitting a new one',
      options,
    );
  }
}

/** `run` a lookup of the try's own `what` on Livy at `url`; a failure (other than the try's abort) becomes a WorkLookupError. */
export async function lookUp<T>(ctx: TaskContext, what: 'session' | 'batch' | 'statement', name: string, url: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new WorkLookupError(what, name, ctx.tryNumber, url, (err as Error).message, { cause: err });
  }
}

/**
 * A new try could not make sure that what an earlier try of the task left on Livy is gone.
 * Submitting its own could run the task twice at once, so the try fails; the next one checks again.
 */
export class EarlierWorkError extends OrchError {
  constructor(what: 'session' | 'batch', name: string, earlierTry: number, tryNumber: number, url: string, reason: string, options?: ErrorOptions) {
    super(
      'ORCH_LIVY_CLEANUP_FAILED',
      `try ${tryNumber} could not make sure the Livy ${what} '${name}' left by try ${earlierTry} is gone at ${url} (${reason}); ` +
        'it does not submit its own, which could run the task twice at once — the try fails, and the next one checks again',
      options,
    );
  }
}
