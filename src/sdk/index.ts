/**
 * orch/sdk — everything a DAG file imports. Small on purpose: no store, no scheduler,
 * no network. The runtime reads what these functions build.
 *
 * @example
 * import { dag, z } from 'orch/sdk';
 * const d = dag({ id: 'hello', params: z.object({ name: z.string().default('world') }) });
 * d.task({ id: 'greet', run: (ctx) => `hello ${ctx.params.name}` });
 * export default d;
 */
export { dag, isDag, Dag, type TaskSpec } from './dag.ts';
export { durationMs } from './duration.ts';
export { TRIGGER_RULES } from './trigger-rules.ts';
export { cluster, emr, livy, codeFile, DIALECTS } from './operators.ts';
export type * from './operators.ts';
export type * from './types.ts';
export type * from './emr.ts';
export { z } from 'zod';
