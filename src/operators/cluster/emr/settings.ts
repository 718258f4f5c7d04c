/**
 * The EMR cluster settings: `backends.emr` in orch.config.json under cluster.create's `emr`
 * in the DAG, checked field by field so a typo fails before anything reaches AWS.
 */
import { z } from 'zod';
import { OrchError } from '../../../errors.ts';
import { durationMs, type Duration, type EmrClusterOptions } from '../../../sdk/index.ts';

export const DEFAULT_RELEASE = 'emr-7.13.0';
export const DEFAULT_APPLICATIONS = ['Spark', 'Livy', 'Hadoop'];
const DEFAULT_INSTANCE_TYPE = 'm5.xlarge';

export class EmrSettingsError extends OrchError {
  override readonly retryable = false;
  constructor(detail: string) {
    super('ORCH_EMR_SETTINGS', `EMR cluster settings (cluster.create's emr in the DAG, over backends.emr in orch.config.json): ${detail}`);
  }
}

const duration = z.union([z.string(), z.number()]).refine(
  (v) => {
    try {
      durationMs(v as Duration);
      return true;
    } catch {
      return false;
    }
  },
  { message: "not a duration (use e.g. '30m', '1h', or 0)" },
);
const count = z.number().int().min(0);
const group = z.strictObject({
  instanceType: z.string().min(1),
  count: z.number().int().min(1).optional(),
  market: z.enum(['ON_DEMAND', 'SPOT']).optional(),
  bidPrice: z.string().regex(/^\d+(\.\d+)?$/, 'a price in USD like "0.10"').optional(),
  ebsSizeGb: z.number().int().min(1).optional(),
});
const fleet = z.strictObject({
  instanceTypes: z
    .array(
      z.union([
        z.string().min(1),
        z.strictObject({
          instanceType: z.string().min(1),
          weightedCapacity: z.number().int().min(1).optional(),
          bidPrice: z.string().optional(),
          bidPriceAsPercentageOfOnDemandPrice: z.number().min(1).max(1000).optional(),
          ebsSizeGb: z.number().int().min(1).optional(),
        }),
      ]),
    )
    .min(1),
  onDemandCapacity: count.optional(),
  spotCapacity: count.optional(),
});
type Configuration = { classification: string; properties?: Record<string, string>; configurations?: Configuration[] };
const configuration: z.ZodType<Configuration> = z.lazy(() =>
  z.strictObject({ classification: z.string().min(1), properties: z.record(z.string(), z.string()).optional(), configurations: z.array(configuration).optional() }),
);

const schema = z.strictObject({
  region: z.string().min(1).optional(),
  releaseLabel: z
    .string()
    .regex(/^emr-(spark-)?\d+\.\d+(\.\d+)?$/, 'a release label like emr-7.13.0 or emr-spark-8.0.0')
    .optional(),
  applications: z.array(z.string().min(1)).min(1).optional(),
  instanceGroups: z.strictObject({ master: group, core: group.optional(), task: z.array(group).optional() }).optional(),
  instanceFleets: z
    .strictObject({
      master: fleet,
      core: fleet.optional(),
      task: fleet.optional(),
      spot: z
        .strictObject({
          allocationStrategy: z.enum(['price-capacity-optimized', 'capacity-optimized', 'capacity-optimized-prioritized', 'lowest-price', 'diversified']).optional(),
          provisioningTimeout: duration.optional(),
          timeoutAction: z.enum(['SWITCH_TO_ON_DEMAND', 'TERMINATE_CLUSTER']).optional(),
        })
        .optional(),
    })
    .optional(),
  ebsRootVolumeSize: z.number().int().min(1).optional(),
  bootstrapActions: z.array(z.strictObject({ name: z.string().optional(), path: z.string().min(1), args: z.array(z.string()).optional() })).optional(),
  configurations: z.array(configuration).optional(),
  managedScaling: z
    .strictObject({
      unitType: z.enum(['Instances', 'InstanceFleetUnits', 'VCPU']).optional(),
      minimum: z.number().int().min(1),
      maximum: z.number().int().min(1),
      maximumOnDemand: z.number().int().min(0).optional(),
      maximumCore: z.number().int().min(1).optional(),
    })
    .optional(),
  logUri: z.string().regex(/^s3n?:\/\//, 'an s3:// URI').optional(),
  serviceRole: z.string().min(1).optional(),
  jobFlowRole: z.string().min(1).optional(),
  ec2KeyName: z.string().min(1).optional(),
  subnetIds: z.array(z.string().min(1)).min(1).optional(),
  securityGroups: z
    .strictObject({
      master: z.string().optional(),
      core: z.string().optional(),
      serviceAccess: z.string().optional(),
      additionalMaster: z.array(z.string()).optional(),
      additionalCore: z.array(z.string()).optional(),
    })
    .optional(),
  securityConfiguration: z.string().min(1).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  stepConcurrencyLevel: z.number().int().min(1).max(256).optional(),
  idleTimeout: duration.optional(),
  terminationProtected: z.boolean().optional(),
  livy: z.strictObject({ port: z.number().int().min(1).max(65535).optional(), scheme: z.enum(['http', 'https']).optional(), dns: z.enum(['public', 'private']).optional() }).optional(),
  waitForTermination: z.boolean().optional(),
});

/** The settings with every default filled in. */
export interface EmrSettings extends EmrClusterOptions {
  releaseLabel: string;
  applications: string[];
  serviceRole: string;
  jobFlowRole: string;
  livy: { port: number; scheme: 'http' | 'https'; dns: 'public' | 'private' };
  waitForTermination: boolean;
}

/** Merge the config file's settings with the DAG's (the DAG wins; tags are combined) and check them. */
export function emrSettings(fromConfig: Record<string, unknown> | undefined, fromDag: EmrClusterOptions | undefined): EmrSettings {
  const merged: Record<string, unknown> = { ...(fromConfig ?? {}), ...(fromDag ?? {}) };
  const tags = { ...((fromConfig?.tags as Record<string, string>) ?? {}), ...(fromDag?.tags ?? {}) };
  if (Object.keys(tags).length) merged.tags = tags;
  // A DAG that sets fleets replaces the config's groups, and the other way round.
  if (fromDag?.instanceFleets) delete merged.instanceGroups;
  if (fromDag?.instanceGroups) delete merged.instanceFleets;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.');
    const unknown = issue.code === 'unrecognized_keys' ? ` (${(issue as { keys: string[] }).keys.map((k) => `'${k}'`).join(', ')})` : '';
    throw new EmrSettingsError(`${path || 'the settings'}: ${issue.message}${unknown}`);
  }
  const s = parsed.data as EmrClusterOptions & { terminationProtected?: boolean };
  if (s.terminationProtected) {
    throw new EmrSettingsError('terminationProtected: true would stop orch terminating the cluster after the run; orch refuses to create a cluster it cannot remove');
  }
  if (s.instanceGroups && s.instanceFleets) throw new EmrSettingsError('instanceGroups and instanceFleets: give one or the other, not both');
  if (s.instanceGroups && (s.subnetIds?.length ?? 0) > 1) throw new EmrSettingsError('subnetIds: instance groups launch in one subnet; give one, or use instanceFleets to let EMR choose among several');
  if (s.idleTimeout !== undefined && durationMs(s.idleTimeout) !== 0) {
    const seconds = durationMs(s.idleTimeout) / 1000;
    if (seconds < 60 || seconds > 604_800) throw new EmrSettingsError(`idleTimeout: EMR accepts 1 minute to 7 days (or 0 for none), got ${s.idleTimeout}`);
  }
  return {
    ...s,
    releaseLabel: s.releaseLabel ?? DEFAULT_RELEASE,
    applications: s.applications ?? DEFAULT_APPLICATIONS,
    instanceGroups: s.instanceGroups ?? (s.instanceFleets ? undefined : { master: { instanceType: DEFAULT_INSTANCE_TYPE }, core: { instanceType: DEFAULT_INSTANCE_TYPE, count: 2 } }),
    serviceRole: s.serviceRole ?? 'EMR_DefaultRole',
    jobFlowRole: s.jobFlowRole ?? 'EMR_EC2_DefaultRole',
    livy: { port: s.livy?.port ?? 8998, scheme: s.livy?.scheme ?? 'http', dns: s.livy?.dns ?? 'public' },
    waitForTermination: s.waitForTermination ?? true,
  };
}

/** Livy runs on the cluster: an application named Livy (any case). */
export const hasLivy = (applications: readonly string[]) => applications.some((a) => a.toLowerCase() === 'livy');
