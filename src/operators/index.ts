/** The operator implementations orch ships, by the type name DAG files use. */
import type { OrchConfig } from '../core/config.ts';
import type { OperatorRegistry } from '../core/operator.ts';
import { backendsFrom } from './cluster/backends.ts';
import { clusterOperators } from './cluster/operators.ts';
import { batchOperator } from './livy/batch.ts';
import { statementOperator } from './livy/statement.ts';
import { emrStepOperators } from './emr/steps.ts';

/** The registry the CLI hands the scheduler. */
export function builtinOperators(config: OrchConfig): OperatorRegistry {
  const backends = backendsFrom(config);
  return new Map(
    Object.entries({
      ...clusterOperators(backends),
      'livy.statement': statementOperator(backends),
      'livy.batch': batchOperator(backends),
      ...emrStepOperators(backends),
    }),
  );
}
