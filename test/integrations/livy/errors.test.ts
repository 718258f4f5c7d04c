/** Every Livy error is an OrchError with a stable code and its context as fields. */
import { describe, expect, it } from 'vitest';
import { OrchError } from '../../../src/errors.ts';
import {
  LIVY_ERROR_CODES,
  LivyBatchFailedError,
  LivyConnectionError,
  LivyHttpError,
  LivySessionDeadError,
  LivySessionLostError,
  LivyStatementCancelledError,
  LivyStatementFailedError,
  LivyTimeoutError,
} from '../../../src/integrations/livy/index.ts';

const samples = [
  new LivyHttpError('GET', 'http://livy/sessions/1', 404, "Session '1' not found."),
  new LivyConnectionError('GET', 'http://livy/version', 'ECONNREFUSED'),
  new LivyTimeoutError('GET', '/version', 1000),
  new LivySessionDeadError(3, 'dead', ['java.lang.OutOfMemoryError']),
  new LivyBatchFailedError(4, 'dead', ['exit 1']),
  new LivyStatementFailedError('AnalysisException', 'Table not found: t', ['at x']),
  new LivyStatementCancelledError(3, 7),
  new LivySessionLostError(3, 'the server stopped answering'),
];

describe('Livy errors', () => {
  it('are OrchErrors with one of the listed stable codes, one class per code', () => {
    for (const error of samples) {
      expect(error).toBeInstanceOf(OrchError);
      expect(LIVY_ERROR_CODES).toContain(error.code);
      expect(error.name).toBe(error.constructor.name);
    }
    expect(new Set(samples.map((e) => e.code)).size).toBe(LIVY_ERROR_CODES.length);
  });

  it('put the context a user acts on in the message', () => {
    expect(samples[3]!.message).toContain('java.lang.OutOfMemoryError');
    expect(samples[5]!.message).toBe('AnalysisException: Table not found: t\n  at x');
    expect(samples[1]!.message).not.toContain('may or may not');
    expect(new LivyConnectionError('POST', 'http://livy/sessions', 'ECONNRESET').message).toContain('may or may not have been applied');
  });
});
