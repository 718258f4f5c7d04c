/**
 * emr.addSteps and emr.stepSensor: Spark on EMR as steps (`aws emr add-steps`) rather than
 * through Livy. Each step's name carries the run, task and try, so a try resumed after a
 * crash finds the steps it added instead of adding them twice; the sensor fails with EMR's
 * FailureDetails, and cancelling it cancels the steps it waits for.
 */
import type { StepConfig } from '@aws-sdk/client-emr';
import type { OperatorImpl } from '../../core/operator.ts';
import { OrchError, isDetached } from '../../errors.ts';
import { readLogTail, stepStderrUri, type EmrApi } from '../../integrations/emr/index.ts';
import { durationMs, type EmrAddStepsOptions, type EmrStep, type EmrStepSensorOptions, type TaskContext } from '../../sdk/index.ts';
import { renderTemplate } from '../template.ts';
import { templateVars } from '../livy/code.ts';
import type { ClusterInfo } from '../cluster/backend.ts';
import type { Backends } from '../cluster/backends.ts';
import { EmrBackend } from '../cluster/emr/backend.ts';
import { requireCluster } from '../cluster/operators.ts';
import { sleep } from '../../util/sleep.ts';

const STEP = 'emr-step';
const FAILED = new Set(['CANCELLED', 'FAILED', 'INTERRUPTED']);

type AddOptions = Omit<EmrAddStepsOptions, 'cluster'> & { cluster: string };
type SensorOptions = Omit<EmrStepSensorOptions, 'cluster' | 'steps'> & { cluster: string; steps: string };

/** The XCom of emr.addSteps. */
export interface AddedSteps {
  clusterId: string;
  stepIds: string[];
}

export class EmrStepsNeedEmrError extends OrchError {
  override readonly retryable = false;
  constructor(taskId: string, backend: string) {
    super('ORCH_EMR_STEPS_NEED_EMR', `task '${taskId}' adds EMR steps, but its cluster is on the ${backend} backend; run with --backend emr, or use livy.statement / livy.batch`);
  }
}

export class EmrStepFailedError extends OrchError {
  override readonly retryable = false;
  constructor(taskId: string, stepId: string, name: string, state: string, details: { Reason?: string; Message?: string; LogFile?: string } | undefined, stderrTail: string[] = []) {
    const what = [details?.Reason, details?.Message].filter(Boolean).join(': ') || 'EMR gave no details';
    const tail = stderrTail.length ? `; its stderr ends: ${stderrTail.slice(-3).join(' | ')}` : '';
    super('ORCH_EMR_STEP_FAILED', `task '${taskId}': EMR step ${stepId} ('${name}') ended ${state}: ${what}${details?.LogFile ? ` (its log: ${details.LogFile})` : ''}${tail}`);
  }
}

export function emrStepOperators(backends: Backends): Record<string, OperatorImpl<any>> {
  /** The cluster and a client for it; only an EMR cluster has steps. */
  const connect = (ctx: TaskContext, createTask: string): { info: ClusterInfo; api: EmrApi } => {
    const info = requireCluster(ctx, createTask);
    const backend = backends.of(info);
    if (!(backend instanceof EmrBackend)) throw new EmrStepsNeedEmrError(ctx.taskId, backend.name);
    return { info, api: backend.api(info.region as string | undefined) };
  };

  const addSteps: OperatorImpl<AddOptions> = {
    async execute(ctx, options) {
      const { info, api } = connect(ctx, options.cluster);
      try {
        const configs = options.steps.map((s) => stepConfig(ctx, s));
        // Resumed after a crash: the steps this try added, by their names, rather than a second set.
        const names = new Set(configs.map((c) => c.Name));
        const earlier = ctx.handles.list(STEP).filter((h) => h.tryNumber === ctx.tryNumber).map((h) => h.externalId);
        const found = earlier.length ? earlier : (await api.listSteps(info.clusterId, ctx.signal)).filter((s) => names.has(s.Name)).map((s) => s.Id!).reverse();
        if (found.length === configs.length) {
          ctx.log.info(`steps ${found.join(', ')} were added by this try before orch restarted; not adding them again`);
          return { clusterId: info.clusterId, stepIds: found } satisfies AddedSteps;
        }
        const stepIds = await api.addSteps(info.clusterId, configs, ctx.signal);
        for (const id of stepIds) ctx.handles.record({ kind: STEP, externalId: id, data: { clusterId: info.clusterId } });
        configs.forEach((c, i) => ctx.log.info(`added EMR step ${stepIds[i]} '${c.Name}' to cluster ${info.clusterId}: ${c.HadoopJarStep!.Jar} ${(c.HadoopJarStep!.Args ?? []).join(' ')}`));
        return { clusterId: info.clusterId, stepIds } satisfies AddedSteps;
      } finally {
        api.close();
      }
    },
    plan(ctx, options) {
      return { steps: [{ call: 'EMR ListSteps (were they added before a crash?)' }, { call: 'EMR AddJobFlowSteps', body: { JobFlowId: '<cluster id>', Steps: options.steps.map((s) => stepConfig(ctx, s)) } }] };
    },
  };
  addSteps.resume = addSteps.execute;

  const stepSensor: OperatorImpl<SensorOptions> = {
    async execute(ctx, options) {
      const { info, api } = connect(ctx, options.cluster);
      const added = ctx.xcom.pull<AddedSteps>(options.steps);
      const pending = new Set(added.stepIds);
      const seen = new Map<string, string>();
      const interval = durationMs(options.pollInterval ?? '30s');
      try {
        while (pending.size) {
          for (const id of [...pending]) {
            const step = await api.describeStep(info.clusterId, id, ctx.signal);
            const state = step.Status?.State ?? '?';
            if (seen.get(id) !== state) ctx.log.info(`EMR step ${id} '${step.Name}': ${state}`);
            seen.set(id, state);
            if (state === 'COMPLETED') pending.delete(id);
            else if (FAILED.has(state)) {
              const details = step.Status?.FailureDetails;
              const tail = await stderrTail(ctx, info, id, details?.LogFile);
              throw new EmrStepFailedError(ctx.taskId, id, step.Name ?? '', state, details, tail);
            }
          }
          if (pending.size) await sleep(interval, ctx.signal);
        }
        return { completed: added.stepIds };
      } catch (err) {
        // Cancelled or timed out: the steps stop too (a detached try leaves them for its resume).
        if (ctx.signal.aborted && !isDetached(ctx.signal) && pending.size) {
          await api.cancelSteps(info.clusterId, [...pending]).then(
            () => ctx.log.info(`cancelled EMR step(s) ${[...pending].join(', ')}`),
            (e: Error) => ctx.log.warn(`could not cancel EMR step(s) ${[...pending].join(', ')}: ${e.message}`),
          );
        }
        throw err;
      } finally {
        api.close();
      }
    },
    plan(_ctx, options) {
      return { steps: [{ call: `EMR DescribeStep for each step of '${options.steps}' every ${options.pollInterval ?? '30s'} until all are COMPLETED (FAILED, CANCELLED or INTERRUPTED fails with EMR's details)` }] };
    },
  };
  stepSensor.resume = stepSensor.execute;

  return { 'emr.addSteps': addSteps, 'emr.stepSensor': stepSensor };
}

/**
 * The end of a failed step's stderr, copied into the task log: from the log file EMR named,
 * else from where the cluster's log URI puts it. Empty when there is none or S3 cannot be
 * read (EMR uploads step logs every few minutes, so a fresh failure may not be there yet).
 */
async function stderrTail(ctx: TaskContext, info: ClusterInfo, stepId: string, logFile: string | undefined): Promise<string[]> {
  const uri = logFile ?? (typeof info.logUri === 'string' ? stepStderrUri(info.logUri, info.clusterId, stepId) : undefined);
  if (!uri) return [];
  try {
    const lines = await readLogTail(uri, 30, { region: info.region as string | undefined, signal: ctx.signal });
    for (const line of lines) ctx.log.external('emr-step', `${stepId}: ${line}`, 'error');
    return lines;
  } catch (err) {
    ctx.log.warn(`could not read the log of step ${stepId} from ${uri}: ${(err as Error).message}`);
    return [];
  }
}

/** The AddJobFlowSteps form of one step, its strings rendered, its name unique to this try. */
function stepConfig(ctx: TaskContext, step: EmrStep): StepConfig {
  const render = (s: string) => (s.includes('{{') ? renderTemplate(s, templateVars(ctx, s), `task '${ctx.taskId}' step '${step.name}'`) : s);
  const name = `${render(step.name)} [orch ${ctx.runId} ${ctx.taskId} try ${ctx.tryNumber}]`.slice(0, 256);
  const jar = step.jar
    ? { Jar: render(step.jar.path), MainClass: step.jar.mainClass, Args: (step.jar.args ?? []).map(render) }
    : { Jar: 'command-runner.jar', Args: ['spark-submit', ...step.sparkSubmit!.map(render)] };
  return { Name: name, ActionOnFailure: step.actionOnFailure ?? 'CONTINUE', HadoopJarStep: jar };
}
