/** The operator implementations orch ships, by the type name DAG files use. */
import type { OperatorRegistry } from '../core/operator.ts';

/** The registry the CLI hands the scheduler. */
export function builtinOperators(): OperatorRegistry {
  return new Map();
}
