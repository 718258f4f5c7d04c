/**
 * The emr backend's part of `orch run --dry-run`: the EMR calls in order, and the shape of
 * the bill (instances × the run's expected hours, and what the idle timeout caps a leak at).
 */
import type { RunJobFlowCommandInput } from '@aws-sdk/client-emr';
import type { PlanHints, PlanStep } from '../../../core/operator.ts';
import type { ClusterInfo } from '../backend.ts';
import { ACTIVE_STATES } from './states.ts';

/** The steps of a create: look for this run's cluster, RunJobFlow, wait for an address. */
export function createSteps(request: RunJobFlowCommandInput, pollCeilingMs: number): PlanStep[] {
  return [
    { call: `EMR ListClusters (${ACTIVE_STATES.join(', ')}) — is there already a cluster named ${request.Name} for this run? If so it is used and nothing below is sent` },
    { call: 'EMR RunJobFlow', body: request },
    { call: `EMR DescribeCluster every 2–${pollCeilingMs / 1000} s until the master node has an address` },
  ];
}

export function waitReadySteps(info: ClusterInfo, timeoutMs: number, pollCeilingMs: number): PlanStep[] {
  return [
    { call: `EMR DescribeCluster every 2–${pollCeilingMs / 1000} s until WAITING or RUNNING (TERMINATING or TERMINATED fails at once with EMR's reason)` },
    { call: `GET ${info.livyUrl}/version until Livy answers — all within ${timeoutMs / 60_000} min` },
  ];
}

export function terminateSteps(info: ClusterInfo, pollCeilingMs: number): PlanStep[] {
  return [
    { call: `EMR DescribeCluster — already ended? termination protection on?` },
    { call: 'EMR TerminateJobFlows', body: { JobFlowIds: [info.clusterId] } },
    ...(info.waitForTermination === false ? [] : [{ call: `EMR DescribeCluster every 2–${pollCeilingMs / 1000} s until TERMINATED` }]),
  ];
}

/** What the cluster costs, in instance-hours: its instances, the run's expected length, the idle timeout's cap. */
export function billLines(request: RunJobFlowCommandInput, hints: PlanHints): string[] {
  const lines: string[] = [];
  let instances = 0;
  for (const g of request.Instances?.InstanceGroups ?? []) {
    const n = g.InstanceCount ?? 0;
    instances += n;
    lines.push(`  ${pad(g.InstanceRole?.toLowerCase() ?? '?', 7)}${n} × ${g.InstanceType} ${g.Market ?? 'ON_DEMAND'}${g.BidPrice ? ` (bid ${g.BidPrice} USD/h)` : ''}`);
  }
  for (const f of request.Instances?.InstanceFleets ?? []) {
    const units = (f.TargetOnDemandCapacity ?? 0) + (f.TargetSpotCapacity ?? 0);
    instances += units;
    const types = (f.InstanceTypeConfigs ?? []).map((t) => t.InstanceType).join(' | ');
    lines.push(`  ${pad(f.InstanceFleetType?.toLowerCase() ?? '?', 7)}${units} unit(s) of ${types} (on-demand ${f.TargetOnDemandCapacity ?? 0}, spot ${f.TargetSpotCapacity ?? 0})`);
  }
  const hours = hints.expectedRunMs ? hints.expectedRunMs / 3_600_000 : 1;
  const basis = hints.expectedRunMs ? `the median of the last ${hints.expectedFrom} successful EMR run(s) of this DAG` : 'an assumed 1 h: no earlier EMR run of this DAG to go by';
  lines.push(`  ${instances} instance(s) × ${round(hours)} h (${basis}) ≈ ${round(instances * hours)} instance-hours, plus the EMR charge per instance-hour`);
  const idle = request.AutoTerminationPolicy?.IdleTimeout;
  lines.push(
    idle
      ? `  if nothing terminates it (orch killed, no reaper), EMR's idle timeout ends it ${round(idle / 3600)} h after its last work: at most ${round((instances * idle) / 3600)} instance-hours more`
      : '  no idle timeout (idleTimeout 0): a cluster orch fails to terminate runs until someone does',
  );
  return lines;
}

const pad = (s: string, n: number) => s.padEnd(n);
const round = (n: number) => (n >= 10 ? Math.round(n) : Math.round(n * 100) / 100).toString();
