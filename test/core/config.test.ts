import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.ts';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'orch-config-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (text: string) => writeFileSync(join(dir, 'orch.config.json'), text);

describe('configuration', () => {
  it('defaults to ./dags, ./.orch/orch.db and the embedded backend', () => {
    const c = loadConfig({}, {}, dir);
    expect(c.dagsFolder).toBe(join(dir, 'dags'));
    expect(c.dbFile).toBe(join(dir, '.orch', 'orch.db'));
    expect(c.backend).toBeUndefined();
    expect(c.parallelism).toBe(32);
  });

  it('takes flags over the environment over orch.config.json', () => {
    write(JSON.stringify({ dagsFolder: 'from-file', home: 'file-home', backend: 'livy', pools: { spark: 3 } }));
    expect(loadConfig({}, {}, dir)).toMatchObject({ dagsFolder: join(dir, 'from-file'), home: join(dir, 'file-home'), backend: 'livy', pools: { spark: 3 } });
    expect(loadConfig({}, { ORCH_DAGS_FOLDER: 'from-env', ORCH_HOME: '/tmp/h', ORCH_BACKEND: 'emr' }, dir)).toMatchObject({
      dagsFolder: join(dir, 'from-env'),
      home: '/tmp/h',
      backend: 'emr',
    });
    expect(loadConfig({ dagsFolder: 'from-flag', backend: 'embedded' }, { ORCH_DAGS_FOLDER: 'from-env' }, dir)).toMatchObject({
      dagsFolder: join(dir, 'from-flag'),
      backend: 'embedded',
    });
  });

  it('rejects malformed JSON, naming the file', () => {
    write('{ "parallelism": 4, }');
    expect(() => loadConfig({}, {}, dir)).toThrow(expect.objectContaining({ code: 'ORCH_CONFIG_INVALID', message: expect.stringContaining('orch.config.json: not valid JSON') }));
  });

  it('rejects an unknown setting or a wrong type, naming it', () => {
    write(JSON.stringify({ paralelism: 4 }));
    expect(() => loadConfig({}, {}, dir)).toThrow(/unknown setting 'paralelism' \(did you mean 'parallelism'\?\)/);
    write(JSON.stringify({ pools: { spark: 'three' } }));
    expect(() => loadConfig({}, {}, dir)).toThrow(/pools\.spark/);
  });

  it('gives every DAG file 30 s to import, or dagImportTimeout seconds, and single files their own dagImportTimeouts', () => {
    expect(loadConfig({}, {}, dir)).toMatchObject({ dagImportTimeoutMs: 30_000, dagImportTimeoutsMs: {} });
    write(JSON.stringify({ dagImportTimeout: 45, dagImportTimeouts: { 'train_model.ts': 120, 'quick.ts': 2.5 } }));
    expect(loadConfig({}, {}, dir)).toMatchObject({ dagImportTimeoutMs: 45_000, dagImportTimeoutsMs: { 'train_model.ts': 120_000, 'quick.ts': 2_500 } });
  });

  it('rejects a dagImportTimeouts key that is not a DAG file name, and a limit that is not positive, naming them', () => {
    write(JSON.stringify({ dagImportTimeouts: { 'dags/etl.ts': 60 } }));
    expect(() => loadConfig({}, {}, dir)).toThrow(/dagImportTimeouts\.dags\/etl\.ts: expected a DAG file name such as etl\.ts/);
    write(JSON.stringify({ dagImportTimeouts: { etl: 60 } }));
    expect(() => loadConfig({}, {}, dir)).toThrow(/dagImportTimeouts\.etl: expected a DAG file name/);
    write(JSON.stringify({ dagImportTimeout: 0 }));
    expect(() => loadConfig({}, {}, dir)).toThrow(/dagImportTimeout: /);
  });

  it('commits with synchronous NORMAL unless the file asks for FULL (power-loss safety), and rejects anything else', async () => {
    expect(loadConfig({}, {}, dir).synchronous).toBe('NORMAL');
    write(JSON.stringify({ synchronous: 'FULL' }));
    const config = loadConfig({}, {}, dir);
    expect(config.synchronous).toBe('FULL');
    const { openStore } = await import('../../src/store/index.ts');
    const store = openStore(join(dir, 'orch.db'), { synchronous: config.synchronous });
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    store.close();
    write(JSON.stringify({ synchronous: 'OFF' }));
    expect(() => loadConfig({}, {}, dir)).toThrow(/synchronous/);
  });

  it('rejects an ORCH_CONFIG that names no file', () => {
    expect(() => loadConfig({}, { ORCH_CONFIG: 'missing.json' }, dir)).toThrow(/ORCH_CONFIG names a file that does not exist/);
  });
});
