/** Errors the engine reports to whoever starts it (the CLI, the embedded backend, tests). */
import { OrchError } from '../errors.ts';

/** The engine could not start: a bad option, a port in use, a folder it cannot write. */
export class EngineStartError extends OrchError {
  constructor(detail: string, options?: ErrorOptions) {
    super('ORCH_ENGINE_START', `orch engine could not start: ${detail}`, options);
  }
}
