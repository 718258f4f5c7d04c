/** Types for fake-emr.mjs (plain JavaScript so a child process can preload it). */
import type { AwsStub } from 'aws-sdk-client-mock';

export interface FakeCluster {
  id: string;
  name: string;
  input: Record<string, any>;
  state: string;
  reason?: { Code?: string; Message?: string };
  protected?: boolean;
  describes: number;
  /** ISO time; CreationDateTime in DescribeCluster. */
  createdAt?: string;
}

export interface FakeEmrState {
  script: Record<string, any>;
  clusters: Record<string, FakeCluster>;
  steps: Record<string, { id: string; clusterId: string; config: Record<string, any>; state: string }>;
  calls: { op: string; input: Record<string, any> }[];
}

export interface FakeEmrScript {
  /** States a new cluster moves through, one per DescribeCluster; STARTING, BOOTSTRAPPING, WAITING by default. */
  states?: string[];
  /** The state-change reason once the script reaches an ended state. */
  reason?: { Code: string; Message: string };
  masterDns?: string;
  terminationProtected?: boolean;
  runJobFlowError?: { name: string; message: string };
  step?: { states: string[]; failure?: { Reason?: string; Message?: string; LogFile?: string } };
}

export function writeFakeEmr(file: string, script?: FakeEmrScript): void;
export function readFakeEmr(file: string): FakeEmrState;
export function updateFakeEmr(file: string, change: (state: FakeEmrState) => void): void;
export function endCluster(file: string, clusterId: string, state: string, code: string, message: string): void;
export function installFakeEmr(file: string): AwsStub<any, any, any>;
