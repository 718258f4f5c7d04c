/**
 * The cluster an EMR run creates, as a DAG (cluster.create's `emr`) or orch.config.json
 * (`backends.emr`) describes it. Names follow RunJobFlow's in camelCase; everything is
 * optional and has a safe default. Types only: the emr backend checks and sends them.
 */
import type { Duration } from './types.ts';

export type EmrMarket = 'ON_DEMAND' | 'SPOT';

/** One instance group (the classic layout): a type, a count, on-demand or spot. */
export interface EmrInstanceGroup {
  instanceType: string;
  /** 1 for the master; 2 for core by default. */
  count?: number;
  market?: EmrMarket;
  /** Maximum spot price in USD per hour, e.g. '0.10'; the on-demand price when left out. */
  bidPrice?: string;
  /** An EBS data volume per instance, in GiB (gp3). */
  ebsSizeGb?: number;
}

/** A fleet: EMR picks among several instance types to reach the capacity. */
export interface EmrInstanceFleet {
  instanceTypes: Array<string | { instanceType: string; weightedCapacity?: number; bidPrice?: string; bidPriceAsPercentageOfOnDemandPrice?: number; ebsSizeGb?: number }>;
  onDemandCapacity?: number;
  spotCapacity?: number;
}

export interface EmrSpotOptions {
  /** How fleets choose spot capacity; `price-capacity-optimized` by default. */
  allocationStrategy?: 'price-capacity-optimized' | 'capacity-optimized' | 'capacity-optimized-prioritized' | 'lowest-price' | 'diversified';
  /** How long a fleet waits for spot capacity before `timeoutAction`; `20m` by default. */
  provisioningTimeout?: Duration;
  /** `SWITCH_TO_ON_DEMAND` by default. */
  timeoutAction?: 'SWITCH_TO_ON_DEMAND' | 'TERMINATE_CLUSTER';
}

export interface EmrConfiguration {
  classification: string;
  properties?: Record<string, string>;
  configurations?: EmrConfiguration[];
}

export interface EmrClusterOptions {
  /** AWS region; the default chain (AWS_REGION, the profile) when left out. */
  region?: string;
  /** `emr-7.13.0` (Spark 3.5, Livy 0.8) by default; `emr-spark-8.x` labels are accepted too. */
  releaseLabel?: string;
  /** Spark, Livy and Hadoop by default; Livy is required for livy.* tasks. */
  applications?: string[];
  /** Either groups or fleets; one m5.xlarge master and two m5.xlarge core nodes by default. */
  instanceGroups?: { master: EmrInstanceGroup; core?: EmrInstanceGroup; task?: EmrInstanceGroup[] };
  instanceFleets?: { master: EmrInstanceFleet; core?: EmrInstanceFleet; task?: EmrInstanceFleet; spot?: EmrSpotOptions };
  /** Root volume of each instance, in GiB. */
  ebsRootVolumeSize?: number;
  bootstrapActions?: Array<{ name?: string; path: string; args?: string[] }>;
  configurations?: EmrConfiguration[];
  /** EMR managed scaling limits. */
  managedScaling?: { unitType?: 'Instances' | 'InstanceFleetUnits' | 'VCPU'; minimum: number; maximum: number; maximumOnDemand?: number; maximumCore?: number };
  /** Where EMR writes the cluster's and steps' logs (s3://…); step failures show their stderr from here. */
  logUri?: string;
  /** `EMR_DefaultRole` and `EMR_EC2_DefaultRole` by default. */
  serviceRole?: string;
  jobFlowRole?: string;
  ec2KeyName?: string;
  /** One subnet, or several (fleets pick the best). */
  subnetIds?: string[];
  securityGroups?: { master?: string; core?: string; serviceAccess?: string; additionalMaster?: string[]; additionalCore?: string[] };
  securityConfiguration?: string;
  /** Your tags; orch adds orch:dag, orch:run and orch:task. */
  tags?: Record<string, string>;
  stepConcurrencyLevel?: number;
  /**
   * The safety net when everything else failed: EMR terminates the cluster after this long
   * idle (AutoTerminationPolicy). `1h` by default, 1 minute to 7 days; `0` turns it off.
   */
  idleTimeout?: Duration;
  /** Where orch reaches Livy on the master: port 8998, http, the master's public DNS by default. */
  livy?: { port?: number; scheme?: 'http' | 'https'; dns?: 'public' | 'private' };
  /** cluster.terminate waits until EMR reports the cluster TERMINATED (default true). */
  waitForTermination?: boolean;
}

/** One EMR step (as `aws emr add-steps`): spark-submit through command-runner.jar, or a custom JAR. */
export interface EmrStep {
  name: string;
  /** What EMR does when the step fails: `CONTINUE` (default), `CANCEL_AND_WAIT` or `TERMINATE_CLUSTER`. */
  actionOnFailure?: 'CONTINUE' | 'CANCEL_AND_WAIT' | 'TERMINATE_CLUSTER';
  /** spark-submit's arguments, e.g. `['--deploy-mode', 'cluster', 's3://bucket/job.py', '{{ ds }}']`. */
  sparkSubmit?: string[];
  /** A JAR to run instead (s3:// path), with its main class and arguments. */
  jar?: { path: string; mainClass?: string; args?: string[] };
}
