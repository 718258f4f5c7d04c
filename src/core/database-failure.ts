/**
 * Turns what SQLite (or the file system) throws about the database file into a
 * DatabaseError that names the file, the cause and what to do — the one message a user
 * sees, whether the file could not be opened or a write failed in the middle of a run.
 */
import { dirname } from 'node:path';
import { DatabaseError } from '../errors.ts';
import { storeFailureKind } from '../store/index.ts';
import { describeThrown } from './thrown.ts';

/** A DatabaseError when `err` says the database at `file` cannot be used, else undefined. */
export function databaseFailure(err: unknown, file: string): DatabaseError | undefined {
  if (err instanceof DatabaseError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const cause = `${describeThrown(err)}${typeof code === 'string' ? ` (${code})` : ''}`;
  if (code === 'ORCH_DB_TOO_NEW') return new DatabaseError('ORCH_DB_TOO_NEW', file, `the orch database ${file}: ${cause}`, { cause: err });
  if (code === 'ORCH_DB_LOCKED') {
    return new DatabaseError(
      'ORCH_DB_LOCKED',
      file,
      `the orch database ${file} is locked: ${describeThrown(err)}. Find the process holding it (an open sqlite3 shell, a backup tool) and end it; nothing is lost, \`orch run <dag>\` resumes the run`,
      { cause: err },
    );
  }
  if (code === 'SQLITE_READONLY_DIRECTORY') {
    // Even a reader of a WAL database needs its -shm file, which SQLite creates beside it.
    return new DatabaseError(
      'ORCH_DB_UNWRITABLE',
      file,
      `cannot use the orch database ${file}: its folder ${dirname(file)} is read-only and SQLite must create ${file}-shm there even to read it. Make the folder writable, or copy the database to a writable folder and point ORCH_HOME there`,
      { cause: err },
    );
  }
  switch (storeFailureKind(err)) {
    case 'unwritable':
      return new DatabaseError(
        'ORCH_DB_UNWRITABLE',
        file,
        `cannot write the orch database ${file}: ${cause}. Free disk space, or make the file and its folder writable for this user (or point ORCH_HOME elsewhere)`,
        { cause: err },
      );
    case 'corrupt':
      return new DatabaseError(
        'ORCH_DB_CORRUPT',
        file,
        `the orch database ${file} is damaged or not an SQLite database: ${cause}. Restore it from a backup, or move it aside (mv ${file} ${file}.broken) to start a new history`,
        { cause: err },
      );
    case 'unopenable':
      return new DatabaseError(
        'ORCH_DB_UNOPENABLE',
        file,
        `cannot open the orch database ${file}: ${cause}. Check that ${dirname(file)} exists and this user may read and write it (or point ORCH_HOME elsewhere)`,
        { cause: err },
      );
    default:
      return undefined;
  }
}
