/** Errors only the CLI raises: a DAGs folder that is not there, a try that does not exist. */
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

/** `orch logs --try N` names a try the task has not had. */
export class TryNotFoundError extends OrchError {
  constructor(taskId: string, tries: number, asked: number) {
    super(
      'ORCH_TRY_NOT_FOUND',
      tries === 0
        ? `task '${taskId}' has not run yet, so it has no try ${asked}`
        : `task '${taskId}' has ${tries} tr${tries === 1 ? 'y' : 'ies'}; --try must be 1..${tries}, got ${asked}`,
    );
  }
}
