/**
 * A scripted Amazon EMR behind aws-sdk-client-mock, answering with the response shapes of
 * the EMR API reference (RunJobFlow, DescribeCluster, ListClusters, ListInstances,
 * TerminateJobFlows, AddJobFlowSteps, DescribeStep, CancelSteps). Its state lives in a
 * JSON file, so a test and the `orch` processes it starts (preloaded with
 * fake-emr-preload.mjs) see the same clusters and the same list of calls.
 *
 * Plain JavaScript: a child process preloads it before orch's TypeScript loader exists.
 */
import {
  AddJobFlowStepsCommand,
  CancelStepsCommand,
  DescribeClusterCommand,
  DescribeStepCommand,
  EMRClient,
  ListClustersCommand,
  ListInstancesCommand,
  ListStepsCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
} from '@aws-sdk/client-emr';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

const ENDED = ['TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'];

/** A fresh state file: clusters go through `script.states` one DescribeCluster at a time. */
export function writeFakeEmr(file, script = {}) {
  save(file, { script: { states: ['STARTING', 'BOOTSTRAPPING', 'WAITING'], masterDns: '127.0.0.1', ...script }, clusters: {}, steps: {}, calls: [], nextId: 1 });
}

export function readFakeEmr(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Change the state file in place (e.g. a cluster lost mid-run). */
export function updateFakeEmr(file, change) {
  const state = readFakeEmr(file);
  change(state);
  save(file, state);
}

/** End a cluster as EMR would: `state` with its reason, e.g. spot capacity lost. */
export function endCluster(file, clusterId, state, code, message) {
  updateFakeEmr(file, (s) => {
    const c = s.clusters[clusterId];
    c.state = state;
    c.reason = { Code: code, Message: message };
  });
}

function save(file, state) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 1));
  renameSync(tmp, file);
}

function awsError(name, message) {
  const err = new Error(message);
  err.name = name;
  err.$fault = 'client';
  err.$metadata = { httpStatusCode: 400 };
  return err;
}

/** Install the mock for every EMRClient in this process; returns the aws-sdk-client-mock handle. */
export function installFakeEmr(file) {
  const mock = mockClient(EMRClient);
  const act = (op, input, fn) => {
    const state = readFakeEmr(file);
    state.calls.push({ op, input });
    try {
      const out = fn(state);
      return out;
    } finally {
      save(file, state);
    }
  };
  const cluster = (state, id) => {
    const c = state.clusters[id];
    if (!c) throw awsError('InvalidRequestException', `Cluster id '${id}' is not valid.`);
    return c;
  };
  const describe = (state, c) => ({
    Id: c.id,
    Name: c.name,
    Status: {
      State: c.state,
      StateChangeReason: c.reason ?? {},
      Timeline: { CreationDateTime: new Date(c.createdAt) },
    },
    Ec2InstanceAttributes: { Ec2AvailabilityZone: 'us-east-1a' },
    ReleaseLabel: c.input.ReleaseLabel,
    Applications: (c.input.Applications ?? []).map((a) => ({ Name: a.Name, Version: a.Name === 'Livy' ? '0.8.0' : '3.5.6' })),
    Tags: c.input.Tags ?? [],
    TerminationProtected: Boolean(c.protected),
    AutoTerminate: false,
    VisibleToAllUsers: true,
    MasterPublicDnsName: c.state === 'STARTING' && c.describes < 2 ? undefined : state.script.masterDns,
    ClusterArn: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${c.id}`,
  });

  mock.on(RunJobFlowCommand).callsFake((input) =>
    act('RunJobFlow', input, (state) => {
      if (state.script.runJobFlowError) throw awsError(state.script.runJobFlowError.name, state.script.runJobFlowError.message);
      const id = `j-${String(state.nextId++).padStart(13, '0')}`;
      state.clusters[id] = { id, name: input.Name, input, state: state.script.states[0], step: 0, describes: 0, createdAt: new Date().toISOString(), protected: state.script.terminationProtected };
      return { JobFlowId: id, ClusterArn: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${id}` };
    }),
  );

  mock.on(DescribeClusterCommand).callsFake((input) =>
    act('DescribeCluster', input, (state) => {
      const c = cluster(state, input.ClusterId);
      c.describes++;
      const out = describe(state, c);
      // The next answer moves one state on, as EMR moves while orch waits.
      if (c.state === 'TERMINATING') {
        c.state = c.reason?.Code === 'USER_REQUEST' || !c.reason?.Code ? 'TERMINATED' : 'TERMINATED_WITH_ERRORS';
      } else if (!ENDED.includes(c.state) && c.step < state.script.states.length - 1) {
        c.step++;
        c.state = state.script.states[c.step];
        if (ENDED.includes(c.state)) c.reason = state.script.reason;
      }
      return { Cluster: out };
    }),
  );

  mock.on(ListClustersCommand).callsFake((input) =>
    act('ListClusters', input, (state) => ({
      Clusters: Object.values(state.clusters)
        .filter((c) => !input.ClusterStates || input.ClusterStates.includes(c.state))
        .map((c) => ({ Id: c.id, Name: c.name, Status: { State: c.state, StateChangeReason: c.reason ?? {} }, NormalizedInstanceHours: 0, ClusterArn: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${c.id}` })),
    })),
  );

  mock.on(ListInstancesCommand).callsFake((input) =>
    act('ListInstances', input, (state) => {
      cluster(state, input.ClusterId);
      return { Instances: [{ Id: 'ci-master', Ec2InstanceId: 'i-0123456789abcdef0', PrivateDnsName: 'ip-10-0-0-12.ec2.internal', PrivateIpAddress: '10.0.0.12', Status: { State: 'RUNNING' } }] };
    }),
  );

  mock.on(TerminateJobFlowsCommand).callsFake((input) =>
    act('TerminateJobFlows', input, (state) => {
      for (const id of input.JobFlowIds) {
        const c = cluster(state, id);
        if (c.protected) throw awsError('ValidationException', `Could not shut down one or more job flows since they are termination protected.`);
        if (!ENDED.includes(c.state)) {
          c.state = 'TERMINATING';
          c.reason = { Code: 'USER_REQUEST', Message: 'Terminated by user request' };
        }
      }
      return {};
    }),
  );

  mock.on(AddJobFlowStepsCommand).callsFake((input) =>
    act('AddJobFlowSteps', input, (state) => {
      cluster(state, input.JobFlowId);
      const ids = input.Steps.map((step) => {
        const id = `s-${String(state.nextId++).padStart(13, '0')}`;
        state.steps[id] = { id, clusterId: input.JobFlowId, config: step, state: 'PENDING', describes: 0 };
        return id;
      });
      return { StepIds: ids };
    }),
  );

  mock.on(DescribeStepCommand).callsFake((input) =>
    act('DescribeStep', input, (state) => {
      const s = state.steps[input.StepId];
      if (!s) throw awsError('InvalidRequestException', `Step id '${input.StepId}' is not valid.`);
      s.describes++;
      const script = state.script.step ?? { states: ['PENDING', 'RUNNING', 'COMPLETED'] };
      if (!['CANCELLED', 'FAILED', 'INTERRUPTED', 'COMPLETED', 'CANCEL_PENDING'].includes(s.state)) s.state = script.states[Math.min(s.describes, script.states.length - 1)];
      if (s.state === 'CANCEL_PENDING' && s.describes > 1) s.state = 'CANCELLED';
      return {
        Step: {
          Id: s.id,
          Name: s.config.Name,
          Config: { Jar: s.config.HadoopJarStep.Jar, Args: s.config.HadoopJarStep.Args },
          ActionOnFailure: s.config.ActionOnFailure,
          Status: { State: s.state, FailureDetails: s.state === 'FAILED' ? script.failure : undefined, StateChangeReason: {} },
        },
      };
    }),
  );

  mock.on(ListStepsCommand).callsFake((input) =>
    act('ListSteps', input, (state) => ({
      Steps: Object.values(state.steps)
        .filter((s) => s.clusterId === input.ClusterId)
        .reverse()
        .map((s) => ({ Id: s.id, Name: s.config.Name, Status: { State: s.state } })),
    })),
  );

  mock.on(CancelStepsCommand).callsFake((input) =>
    act('CancelSteps', input, (state) => ({
      CancelStepsInfoList: input.StepIds.map((id) => {
        const s = state.steps[id];
        if (s && ['PENDING', 'RUNNING'].includes(s.state)) s.state = 'CANCEL_PENDING';
        return { StepId: id, Status: s ? 'SUBMITTED' : 'FAILED', Reason: s ? undefined : 'no such step' };
      }),
    })),
  );
  return mock;
}
