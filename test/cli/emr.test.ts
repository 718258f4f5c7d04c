/**
 * `orch emr reap`, as a user runs it, against a scripted EMR (aws-sdk-client-mock preloaded
 * into the orch process): one line per orch cluster found, what was done and why.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orch } from '../helpers/cli.ts';
import { REPO, workspace, type Workspace } from '../helpers/dags.ts';
import { readFakeEmr, updateFakeEmr, writeFakeEmr } from '../helpers/fake-emr.mjs';

let ws: Workspace;
let fake: string;

beforeEach(() => {
  ws = workspace();
  fake = join(ws.root, 'fake-emr.json');
  writeFakeEmr(fake);
  // A cluster orch created two hours ago for a run this database never heard of, and someone else's.
  updateFakeEmr(fake, (s) => {
    const at = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const tags = [{ Key: 'orch:dag', Value: 'nightly' }, { Key: 'orch:run', Value: 'scheduled__2026-12-06' }];
    s.clusters['j-ORCH'] = { id: 'j-ORCH', name: 'orch-nightly-scheduled__2026-12-06', input: { Tags: tags }, state: 'WAITING', describes: 0, createdAt: at };
    s.clusters['j-OTHER'] = { id: 'j-OTHER', name: 'analytics', input: { Tags: [] }, state: 'WAITING', describes: 0, createdAt: at };
  });
});
afterEach(() => ws.cleanup());

const reap = (args: string[]) =>
  orch(ws, ['emr', 'reap', ...args], { env: { AWS_REGION: 'eu-west-1', ORCH_TEST_FAKE_EMR: fake, NODE_OPTIONS: `--import ${pathToFileURL(join(REPO, 'test/helpers/fake-emr-preload.mjs')).href}` } });

describe('orch emr reap', () => {
  it('--dry-run lists what it would terminate and why, and terminates nothing', async () => {
    const r = await reap(['--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^j-ORCH +WAITING +would terminate +nightly\/scheduled__2026-12-06: its run is unknown to this database \(created 120 min ago\)$/m);
    expect(r.stdout).not.toContain('j-OTHER');
    expect(readFakeEmr(fake).calls.filter((c) => c.op === 'TerminateJobFlows')).toEqual([]);
  });

  it('terminates what the dry run listed; a longer grace keeps it', async () => {
    const kept = await reap(['--grace', '3h']);
    expect(kept.stdout).toMatch(/^j-ORCH +WAITING +kept +.*created only 120 min ago \(grace 180 min\)/m);
    const r = await reap([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^j-ORCH +WAITING +terminated +nightly\/scheduled__2026-12-06/m);
    expect(readFakeEmr(fake).calls.filter((c) => c.op === 'TerminateJobFlows').map((c) => c.input.JobFlowIds)).toEqual([['j-ORCH']]);
  });
});
