/**
 * A thin layer over @aws-sdk/client-emr: the calls orch makes, their errors turned into
 * EmrApiError. Credentials and region come from the SDK's default chain (environment,
 * profile, SSO, instance role); orch never reads, logs or stores them.
 */
import type { Cluster, ClusterState, ClusterSummary, EMRClient, RunJobFlowCommandInput, Step, StepConfig, StepSummary } from '@aws-sdk/client-emr';
import { EmrApiError } from './errors.ts';

export interface EmrApiOptions {
  region?: string;
  /** Another endpoint than the region's (a VPC endpoint, FIPS). */
  endpoint?: string;
  /** Attempts per call, counting the first; throttling and server errors are retried with backoff. */
  maxAttempts?: number;
}

export class EmrApi {
  private client: EMRClient | undefined;

  constructor(private readonly options: EmrApiOptions = {}) {}

  /** RunJobFlow: the new cluster's id. */
  async runJobFlow(input: RunJobFlowCommandInput, signal?: AbortSignal): Promise<string> {
    const out = await this.call('RunJobFlow', (sdk, client) => client.send(new sdk.RunJobFlowCommand(input), { abortSignal: signal }));
    if (!out.JobFlowId) throw new EmrApiError('RunJobFlow', 'NoJobFlowId', 'the answer named no cluster');
    return out.JobFlowId;
  }

  async describeCluster(clusterId: string, signal?: AbortSignal): Promise<Cluster> {
    const out = await this.call('DescribeCluster', (sdk, client) => client.send(new sdk.DescribeClusterCommand({ ClusterId: clusterId }), { abortSignal: signal }));
    if (!out.Cluster) throw new EmrApiError('DescribeCluster', 'NoCluster', `the answer for ${clusterId} held no cluster`);
    return out.Cluster;
  }

  /** TerminateJobFlows; terminating a cluster that already ended succeeds at EMR too. */
  async terminate(clusterIds: string[], signal?: AbortSignal): Promise<void> {
    await this.call('TerminateJobFlows', (sdk, client) => client.send(new sdk.TerminateJobFlowsCommand({ JobFlowIds: clusterIds }), { abortSignal: signal }));
  }

  /** Every cluster in `states`, following the pages. */
  async listClusters(states: ClusterState[], createdAfter?: Date, signal?: AbortSignal): Promise<ClusterSummary[]> {
    const found: ClusterSummary[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call('ListClusters', (sdk, client) => client.send(new sdk.ListClustersCommand({ ClusterStates: states, CreatedAfter: createdAfter, Marker: marker }), { abortSignal: signal }),
      );
      found.push(...(out.Clusters ?? []));
      marker = out.Marker;
    } while (marker);
    return found;
  }

  /** The master node's private DNS name (ListInstances), once EMR has one. */
  async masterPrivateDns(clusterId: string, fleets: boolean, signal?: AbortSignal): Promise<string> {
    const which = fleets ? { InstanceFleetType: 'MASTER' as const } : { InstanceGroupTypes: ['MASTER' as const] };
    const out = await this.call('ListInstances', (sdk, client) => client.send(new sdk.ListInstancesCommand({ ClusterId: clusterId, ...which }), { abortSignal: signal }));
    const dns = out.Instances?.find((i) => i.PrivateDnsName)?.PrivateDnsName;
    if (!dns) throw new EmrApiError('ListInstances', 'NoMaster', `cluster ${clusterId} lists no master node with a private DNS name yet`);
    return dns;
  }

  /** AddJobFlowSteps: the new steps' ids, in order. */
  async addSteps(clusterId: string, steps: StepConfig[], signal?: AbortSignal): Promise<string[]> {
    const out = await this.call('AddJobFlowSteps', (sdk, client) => client.send(new sdk.AddJobFlowStepsCommand({ JobFlowId: clusterId, Steps: steps }), { abortSignal: signal }));
    return out.StepIds ?? [];
  }

  /** Every step of the cluster, newest first, following the pages. */
  async listSteps(clusterId: string, signal?: AbortSignal): Promise<StepSummary[]> {
    const found: StepSummary[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call('ListSteps', (sdk, client) => client.send(new sdk.ListStepsCommand({ ClusterId: clusterId, Marker: marker }), { abortSignal: signal }));
      found.push(...(out.Steps ?? []));
      marker = out.Marker;
    } while (marker);
    return found;
  }

  async describeStep(clusterId: string, stepId: string, signal?: AbortSignal): Promise<Step> {
    const out = await this.call('DescribeStep', (sdk, client) => client.send(new sdk.DescribeStepCommand({ ClusterId: clusterId, StepId: stepId }), { abortSignal: signal }));
    if (!out.Step) throw new EmrApiError('DescribeStep', 'NoStep', `the answer for step ${stepId} held no step`);
    return out.Step;
  }

  async cancelSteps(clusterId: string, stepIds: string[], signal?: AbortSignal): Promise<void> {
    await this.call('CancelSteps', (sdk, client) => client.send(new sdk.CancelStepsCommand({ ClusterId: clusterId, StepIds: stepIds }), { abortSignal: signal }));
  }

  close(): void {
    this.client?.destroy();
  }

  /** Send with the SDK, loaded on first use: only commands that talk to EMR pay for loading it. */
  private async call<T>(operation: string, send: (sdk: typeof import('@aws-sdk/client-emr'), client: EMRClient) => Promise<T>): Promise<T> {
    const sdk = await import('@aws-sdk/client-emr');
    // The SDK warns on every Node 20 start that later SDK releases will need Node 22; orch
    // supports Node 20 with the SDK version it pins, so the warning would only be noise.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { region, endpoint, maxAttempts = 8 } = this.options;
    this.client ??= new sdk.EMRClient({ region, endpoint, maxAttempts, retryMode: 'standard' });
    try {
      return await send(sdk, this.client);
    } catch (err) {
      const e = err as Error & { name?: string; Code?: string };
      if (e.name === 'AbortError') throw err;
      throw new EmrApiError(operation, e.Code ?? e.name ?? 'Error', e.message, { cause: err });
    }
  }
}
