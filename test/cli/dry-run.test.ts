/**
 * `orch run <dag> --dry-run`: what the run would send, in order — for EMR the RunJobFlow
 * request, the waits, the Livy calls with the rendered statements and TerminateJobFlows,
 * then what the cluster costs — without a single call to AWS or Livy, and nothing recorded.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.ts';
import { REPO } from '../helpers/dags.ts';
import { readFakeEmr, writeFakeEmr } from '../helpers/fake-emr.mjs';
import { repoWorkspace } from '../helpers/movielens.ts';

let ws: ReturnType<typeof repoWorkspace>;
let fake: string;

beforeEach(() => {
  ws = repoWorkspace();
  fake = join(ws.out, '..', 'fake-emr.json');
  writeFakeEmr(fake);
});
afterEach(() => ws.cleanup());

const CONF = JSON.stringify({ source: 's3://my-data/ml-25m', output: 's3://my-data/parquet', emr_scripts: 's3://my-bucket/orch' });
// Any EMR call the dry run made would land in the fake's call list.
const env = () => ({ ORCH_TEST_FAKE_EMR: fake, NODE_OPTIONS: `--import ${pathToFileURL(join(REPO, 'test/helpers/fake-emr-preload.mjs')).href}` });

describe('orch run --dry-run', () => {
  it('prints the EMR requests in order with the rendered statements and the cost, calling nothing', async () => {
    const r = await orch(ws, ['run', 'transform_movielens', '--backend', 'emr', '--dry-run', '--conf', CONF], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout;
    const at = (s: string) => {
      const i = text.indexOf(s);
      expect(i, `${s} in:\n${text}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    // The order of the calls.
    expect(at('→ EMR RunJobFlow')).toBeLessThan(at('until WAITING or RUNNING'));
    expect(at('until WAITING or RUNNING')).toBeLessThan(at('/sessions/{id}/statements — spark code'));
    expect(at('/sessions/{id}/statements — spark code')).toBeLessThan(at('→ EMR TerminateJobFlows'));
    expect(at('→ EMR TerminateJobFlows')).toBeLessThan(at('What it costs'));
    // The RunJobFlow request, as JSON.
    const json = text.slice(at('→ EMR RunJobFlow'), at('→ EMR DescribeCluster every'));
    const request = JSON.parse(json.slice(json.indexOf('{'), json.lastIndexOf('}') + 1));
    expect(request.Applications).toEqual([{ Name: 'Spark' }, { Name: 'Livy' }, { Name: 'Hadoop' }]);
    expect(request.Instances.InstanceGroups).toContainEqual(expect.objectContaining({ InstanceRole: 'TASK', Market: 'SPOT' }));
    expect(request.BootstrapActions[0].ScriptBootstrapAction.Path).toBe('s3://my-bucket/orch/bootstrap-python.sh');
    expect(request.Configurations.map((c: { Classification: string }) => c.Classification)).toEqual(['spark', 'livy-conf']);
    expect(request.Tags.map((t: { Key: string }) => t.Key)).toEqual(['orch:dag', 'orch:run', 'orch:task', 'orch:db']);
    expect(request.AutoTerminationPolicy).toEqual({ IdleTimeout: 3600 });
    // Statements rendered with the params, one session per transform.
    expect(text).toContain('csvToParquet(schema, "s3://my-data/ml-25m/ratings.csv"');
    expect(text.match(/→ POST http:\/\/<master DNS>:8998\/sessions\n/g)).toHaveLength(6);
    // The bill's shape: instances, hours, and the idle timeout's cap.
    expect(text).toMatch(/task +2 × r5\.xlarge SPOT/);
    expect(text).toContain('5 instance(s) × 1 h');
    expect(text).toContain("EMR's idle timeout ends it 1 h after its last work: at most 5 instance-hours more");

    expect(readFakeEmr(fake).calls).toEqual([]);
    expect(existsSync(ws.db)).toBe(true); // opened, but no run recorded
    const runs = await orch(ws, ['runs', 'list', '--dag', 'transform_movielens']);
    expect(runs.stdout).not.toContain('manual__');
  });

  it('names the field when the EMR settings are wrong, and exits 1', async () => {
    const config = join(ws.out, '..', 'orch.config.json');
    writeFileSync(config, JSON.stringify({ backends: { emr: { logUri: 'https://logs.example.com' } } }));
    const r = await orch(ws, ['run', 'transform_movielens', '--backend', 'emr', '--dry-run', '--conf', CONF], { env: { ...env(), ORCH_CONFIG: config } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/1\. create_cluster .*\n\s+✗ cannot be planned: EMR cluster settings .*: logUri: an s3:\/\/ URI/);
    // Said once: the tasks that need the cluster point at it.
    expect(r.stdout.match(/✗ cannot be planned/g)).toHaveLength(1);
    expect(r.stdout).toContain('(not planned: it needs what create_cluster would produce)');
    expect(readFakeEmr(fake).calls).toEqual([]);
  });
});
