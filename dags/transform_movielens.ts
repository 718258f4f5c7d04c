/**
 * The pipeline orch exists for: create a cluster, wait for it, convert the six MovieLens
 * CSV files to Parquet in parallel through Livy (at most 3 at a time), and terminate the
 * cluster whatever happened. The backend (embedded, livy, emr) is chosen at run time.
 *
 *   orch run transform_movielens
 *   orch run transform_movielens --conf '{"source": "/data/ml-25m"}'
 *   orch run transform_movielens --backend livy    # with ORCH_LIVY_URL set
 *   orch run transform_movielens --backend emr --conf '{"source": "s3://…/ml-25m", "output": "s3://…/parquet", "emr_scripts": "s3://…/orch"}'
 */
import { cluster, codeFile, dag, livy, z } from 'orch/sdk';

export const DATASETS = ['movies', 'ratings', 'tags', 'links', 'genome-scores', 'genome-tags'] as const;

const d = dag({
  id: 'transform_movielens',
  description: 'MovieLens CSV → Parquet on a cluster created for the run and terminated after it',
  maxActiveTasks: 3,
  params: z.object({
    source: z.string().min(1).default('data/movielens-sample').describe('folder (or s3:// prefix) holding the six MovieLens CSV files'),
    output: z.string().min(1).default('out/movielens-parquet').describe('where the Parquet datasets go, one folder per file'),
    emr_scripts: z.string().min(1).default('s3://my-orch-bucket/orch').describe("on EMR: the s3:// folder holding this repository's emr/ scripts (bootstrap)"),
  }),
  tags: ['movielens', 'spark', 'livy'],
});

const create = d.task({
  id: 'create_cluster',
  operator: cluster.create({
    name: 'movielens',
    // Used by --backend emr only; orch.config.json's backends.emr adds the account's side
    // (region, subnets, roles, log URI). The other backends ignore it.
    emr: {
      instanceGroups: {
        master: { instanceType: 'm5.xlarge' },
        core: { instanceType: 'r5.xlarge', count: 2 },
        // Extra executors at spot prices: losing them slows the run, never fails it.
        task: [{ instanceType: 'r5.xlarge', count: 2, market: 'SPOT' }],
      },
      bootstrapActions: [{ name: 'python packages for pyspark statements', path: '{{ params.emr_scripts }}/bootstrap-python.sh', args: ['pyarrow'] }],
      configurations: [
        { classification: 'spark', properties: { maximizeResourceAllocation: 'true' } },
        { classification: 'livy-conf', properties: { 'livy.server.session.timeout': '2h' } },
      ],
      idleTimeout: '1h',
    },
  }),
});
const ready = d.task({ id: 'wait_for_cluster', upstream: [create], operator: cluster.waitReady({ cluster: create }) });

const transforms = DATASETS.map((name) =>
  d.task({
    id: `transform_${name.replace('-', '_')}`,
    upstream: [ready],
    retries: 1,
    retryDelay: '10s',
    operator: livy.statement({
      cluster: create,
      output: `{{ params.output }}/${name}`,
      // Checked before the cluster is created, where the cluster reads this machine's files.
      inputs: [`{{ params.source }}/${name}.csv`],
      code: {
        spark: [codeFile('../scala-statements/csv-to-parquet.scala'), codeFile(`../scala-statements/${name}.scala`)],
        duckdb: codeFile(`../scala-statements/${name}.duckdb.sql`),
      },
    }),
  }),
);

d.task({ id: 'terminate_cluster', upstream: transforms, operator: cluster.terminate({ cluster: create }) });

export default d;
