/**
 * From checked EMR settings and the run's identity to the RunJobFlow request. The cluster's
 * name and orch's tags are what a restarted scheduler and the reaper find it by.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Configuration, InstanceFleetConfig, InstanceGroupConfig, RunJobFlowCommandInput, Tag } from '@aws-sdk/client-emr';
import { durationMs, type EmrConfiguration, type EmrInstanceFleet, type EmrInstanceGroup } from '../../../sdk/index.ts';
import type { EmrSettings } from './settings.ts';

/** Tags orch puts on every cluster it creates. */
export const TAG_DAG = 'orch:dag';
export const TAG_RUN = 'orch:run';
export const TAG_TASK = 'orch:task';
/** Which orch database made the cluster: the reaper of one database leaves another's clusters alone. */
export const TAG_DB = 'orch:db';

/** The orch:db tag of the database at `dbFile` on this host: short, stable, and not the path itself. */
export function databaseTag(dbFile: string): string {
  return createHash('sha256').update(`${hostname()}:${resolve(dbFile)}`).digest('hex').slice(0, 16);
}

export interface ClusterIdentity {
  dagId: string;
  runId: string;
  taskId: string;
  /** cluster.create's `name`. */
  name?: string;
  /** The database's orch:db tag. */
  db?: string;
}

/** `orch-<name>-<dag>-<run>`: one cluster per run, so the name alone finds a create that crashed. */
export function clusterName(id: ClusterIdentity): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.:\-]+/g, '_');
  return ['orch', id.name && id.name !== id.dagId ? clean(id.name) : undefined, clean(id.dagId), clean(id.runId)].filter(Boolean).join('-').slice(0, 256);
}

/** The RunJobFlow input for a run's cluster. */
export function runJobFlowRequest(s: EmrSettings, id: ClusterIdentity): RunJobFlowCommandInput {
  // Tag values allow letters, digits, spaces and _ . : / = + - @ only.
  const tagValue = (v: string) => v.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, '_').slice(0, 256);
  const tags: Tag[] = [
    ...Object.entries(s.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    { Key: TAG_DAG, Value: tagValue(id.dagId) },
    { Key: TAG_RUN, Value: tagValue(id.runId) },
    { Key: TAG_TASK, Value: tagValue(id.taskId) },
    ...(id.db ? [{ Key: TAG_DB, Value: id.db }] : []),
  ];
  const fleets = s.instanceFleets;
  const idle = s.idleTimeout === undefined ? 3600 : durationMs(s.idleTimeout) / 1000;
  return {
    Name: clusterName(id),
    ReleaseLabel: s.releaseLabel,
    Applications: s.applications.map((Name) => ({ Name })),
    LogUri: s.logUri,
    ServiceRole: s.serviceRole,
    JobFlowRole: s.jobFlowRole,
    SecurityConfiguration: s.securityConfiguration,
    VisibleToAllUsers: true,
    Instances: {
      InstanceGroups: s.instanceGroups ? groupsOf(s.instanceGroups) : undefined,
      InstanceFleets: fleets ? fleetsOf(fleets) : undefined,
      Ec2KeyName: s.ec2KeyName,
      Ec2SubnetId: fleets ? undefined : s.subnetIds?.[0],
      Ec2SubnetIds: fleets ? s.subnetIds : undefined,
      EmrManagedMasterSecurityGroup: s.securityGroups?.master,
      EmrManagedSlaveSecurityGroup: s.securityGroups?.core,
      ServiceAccessSecurityGroup: s.securityGroups?.serviceAccess,
      AdditionalMasterSecurityGroups: s.securityGroups?.additionalMaster,
      AdditionalSlaveSecurityGroups: s.securityGroups?.additionalCore,
      // The cluster waits for Livy work after it is up; orch terminates it, never an empty step list.
      KeepJobFlowAliveWhenNoSteps: true,
      TerminationProtected: false,
    },
    BootstrapActions: s.bootstrapActions?.map((b, i) => ({ Name: b.name ?? `bootstrap ${i + 1}`, ScriptBootstrapAction: { Path: b.path, Args: b.args } })),
    Configurations: s.configurations?.map(configurationOf),
    EbsRootVolumeSize: s.ebsRootVolumeSize,
    StepConcurrencyLevel: s.stepConcurrencyLevel,
    ManagedScalingPolicy: s.managedScaling
      ? {
          ComputeLimits: {
            UnitType: s.managedScaling.unitType ?? (fleets ? 'InstanceFleetUnits' : 'Instances'),
            MinimumCapacityUnits: s.managedScaling.minimum,
            MaximumCapacityUnits: s.managedScaling.maximum,
            MaximumOnDemandCapacityUnits: s.managedScaling.maximumOnDemand,
            MaximumCoreCapacityUnits: s.managedScaling.maximumCore,
          },
        }
      : undefined,
    AutoTerminationPolicy: idle > 0 ? { IdleTimeout: Math.round(idle) } : undefined,
    Tags: tags,
  };
}

const ebs = (sizeGb: number | undefined) =>
  sizeGb ? { EbsBlockDeviceConfigs: [{ VolumeSpecification: { VolumeType: 'gp3', SizeInGB: sizeGb }, VolumesPerInstance: 1 }] } : undefined;

function groupsOf(g: NonNullable<EmrSettings['instanceGroups']>): InstanceGroupConfig[] {
  const one = (role: 'MASTER' | 'CORE' | 'TASK', spec: EmrInstanceGroup, name: string, defaultCount: number): InstanceGroupConfig => ({
    Name: name,
    InstanceRole: role,
    InstanceType: spec.instanceType,
    InstanceCount: spec.count ?? defaultCount,
    Market: spec.market ?? 'ON_DEMAND',
    BidPrice: spec.market === 'SPOT' ? spec.bidPrice : undefined,
    EbsConfiguration: ebs(spec.ebsSizeGb),
  });
  return [
    one('MASTER', g.master, 'master', 1),
    ...(g.core ? [one('CORE', g.core, 'core', 2)] : []),
    ...(g.task ?? []).map((t, i) => one('TASK', t, `task ${i + 1}`, 1)),
  ];
}

function fleetsOf(f: NonNullable<EmrSettings['instanceFleets']>): InstanceFleetConfig[] {
  const one = (role: 'MASTER' | 'CORE' | 'TASK', spec: EmrInstanceFleet): InstanceFleetConfig => {
    const spotCapacity = spec.spotCapacity ?? 0;
    const onDemand = spec.onDemandCapacity ?? (spotCapacity > 0 ? 0 : role === 'MASTER' ? 1 : 2);
    return {
      Name: role.toLowerCase(),
      InstanceFleetType: role,
      TargetOnDemandCapacity: onDemand,
      TargetSpotCapacity: spotCapacity,
      InstanceTypeConfigs: spec.instanceTypes.map((t) =>
        typeof t === 'string'
          ? { InstanceType: t }
          : { InstanceType: t.instanceType, WeightedCapacity: t.weightedCapacity, BidPrice: t.bidPrice, BidPriceAsPercentageOfOnDemandPrice: t.bidPriceAsPercentageOfOnDemandPrice, EbsConfiguration: ebs(t.ebsSizeGb) },
      ),
      LaunchSpecifications:
        spotCapacity > 0
          ? {
              SpotSpecification: {
                AllocationStrategy: f.spot?.allocationStrategy ?? 'price-capacity-optimized',
                TimeoutDurationMinutes: Math.max(5, Math.round(durationMs(f.spot?.provisioningTimeout ?? '20m') / 60_000)),
                TimeoutAction: f.spot?.timeoutAction ?? 'SWITCH_TO_ON_DEMAND',
              },
            }
          : undefined,
    };
  };
  return [one('MASTER', f.master), ...(f.core ? [one('CORE', f.core)] : []), ...(f.task ? [one('TASK', f.task)] : [])];
}

function configurationOf(c: EmrConfiguration): Configuration {
  return { Classification: c.classification, Properties: c.properties, Configurations: c.configurations?.map(configurationOf) };
}

/** Drop undefined fields, so a printed request shows only what is sent. */
export function compact<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
