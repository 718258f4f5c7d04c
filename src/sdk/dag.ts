/**
 * `dag()` collects a DAG's options and tasks as plain data. It checks nothing and does
 * no I/O: the loader validates the result and reports problems against the file.
 */
import type {
  DagOptions,
  FunctionTaskOptions,
  OperatorTaskOptions,
  ParamsOf,
  ParamsSchema,
  TaskRef,
} from './types.ts';

const DAG_BRAND = Symbol.for('orch.dag');

export type TaskSpec<P> = FunctionTaskOptions<P> | OperatorTaskOptions;

/** A DAG under construction; export it (default or named) from a file in the DAGs folder. */
export class Dag<S extends ParamsSchema | undefined = undefined> {
  readonly [DAG_BRAND] = true;
  readonly options: DagOptions<S>;
  readonly tasks: TaskSpec<ParamsOf<S>>[] = [];

  constructor(options: DagOptions<S>) {
    this.options = options;
  }

  get id(): string {
    return this.options.id;
  }

  /** Add a task; returns a reference to use in other tasks' `upstream`. */
  task(spec: FunctionTaskOptions<ParamsOf<S>>): TaskRef;
  task(spec: OperatorTaskOptions): TaskRef;
  task(spec: TaskSpec<ParamsOf<S>>): TaskRef {
    this.tasks.push(spec);
    return { id: spec.id };
  }
}

/**
 * Define a DAG.
 * @example
 * const d = dag({ id: 'hello', schedule: '@daily', startDate: '2026-01-01' });
 * const a = d.task({ id: 'a', run: () => 41 });
 * d.task({ id: 'b', upstream: [a], run: (ctx) => ctx.xcom.pull<number>('a') + 1 });
 * export default d;
 */
export function dag<S extends ParamsSchema | undefined = undefined>(options: DagOptions<S>): Dag<S> {
  return new Dag(options);
}

/** True for a value built by `dag()`, even from another copy of this module. */
export function isDag(value: unknown): value is Dag<ParamsSchema | undefined> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DAG_BRAND] === true;
}
