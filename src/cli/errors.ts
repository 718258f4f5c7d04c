/** Errors only the CLI raises: a DAGs folder that is not there. */
import { OrchError } from '../errors.ts';

/** The DAGs folder orch was pointed at is missing (or is a file). */
export class DagsFolderMissingError extends OrchError {
  constructor(
    readonly folder: string,
    /** Where the setting came from, e.g. "--dags-folder" or "the default". */
    source: string,
  ) {
    super(
      'ORCH_DAGS_FOLDER_MISSING',
      `the DAGs folder ${folder} does not exist (from ${source}). Point orch at your DAG files with --dags-folder <dir>, ORCH_DAGS_FOLDER, or "dagsFolder" in orch.config.json`,
    );
  }
}

export { TryNotFoundError } from '../errors.ts';
