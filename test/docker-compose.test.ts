/**
 * docker-compose.yml: orch (scheduler + web) beside a Livy + Spark service. No Docker engine
 * runs on the test machines, so the file is read as Compose would read it and checked for
 * what a user relies on: orch is pointed at that Livy, the ports are published, and the
 * paths the README's command passes exist where Spark runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkLivyUrl } from '../src/operators/cluster/livy-backend.ts';
import { REPO } from './helpers/dags.ts';

const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'));
const { livy, orch } = compose.services;
const mountsOf = (service: { volumes: string[] }) => new Map(service.volumes.map((v) => [v.split(':')[1], v.split(':')[0]]));

describe('docker-compose.yml', () => {
  it('has an orch service and a Livy + Spark service, each built from a Dockerfile in the repository', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['livy', 'orch']);
    expect(existsSync(join(REPO, livy.build, 'Dockerfile'))).toBe(true);
    expect(existsSync(join(REPO, orch.build, 'Dockerfile'))).toBe(true);
    const livyImage = readFileSync(join(REPO, livy.build, 'Dockerfile'), 'utf8');
    expect(livyImage).toMatch(/^FROM apache\/spark:3\.5\./m);
    expect(livyImage).toContain('apache-livy-${LIVY_VERSION}_2.12-bin.zip');
  });

  it('points orch at that Livy on the livy backend, and starts orch once Livy answers', () => {
    expect(orch.environment.ORCH_BACKEND).toBe('livy');
    const url = new URL(orch.environment.ORCH_LIVY_URL);
    expect(() => checkLivyUrl(url.href, 'ORCH_LIVY_URL')).not.toThrow();
    expect(url.hostname).toBe('livy');
    expect(livy.ports).toContain(`8998:${url.port}`);
    expect(readFileSync(join(REPO, livy.build, 'livy.conf'), 'utf8')).toMatch(new RegExp(`^livy\\.server\\.port = ${url.port}$`, 'm'));
    expect(livy.healthcheck.test.join(' ')).toContain(`http://localhost:${url.port}/version`);
    expect(orch.depends_on.livy.condition).toBe('service_healthy');
  });

  it('publishes the web UI with auth, as orch requires off localhost', () => {
    const dockerfile = readFileSync(join(REPO, orch.build, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/"standalone", "--host", "0\.0\.0\.0", "--port", "8080"/);
    expect(orch.ports).toContain('8080:8080');
    expect(orch.environment.ORCH_WEB_TOKEN.length).toBeGreaterThanOrEqual(8);
  });

  it('mounts the DAGs into orch and the data and output folders where Spark runs', () => {
    const workdir = /^WORKDIR (\S+)$/m.exec(readFileSync(join(REPO, orch.build, 'Dockerfile'), 'utf8'))![1];
    expect(mountsOf(orch).get(`${workdir}/dags`)).toBe('./dags');
    expect(mountsOf(orch).get(`${workdir}/scala-statements`)).toBe('./scala-statements');
    // The README's command passes source /data/movielens-sample and output /out/…: Spark in the livy service reads and writes them.
    const header = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
    expect(header).toContain('"source": "/data/movielens-sample", "output": "/out/movielens-parquet"');
    expect(mountsOf(livy).get('/data')).toBe('./data');
    expect(existsSync(join(REPO, 'data/movielens-sample/movies.csv'))).toBe(true);
    expect(mountsOf(livy).get('/out')).toBe('./out');
  });
});
