/** `orch sample movielens`: write generated MovieLens-shaped CSV files. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { generateMovieLens, SCALES, type Scale } from '../../samples/movielens.ts';
import { action } from '../action.ts';
import { integer, oneOf } from '../parse.ts';

export function registerSampleCommand(program: Command): void {
  program
    .command('sample')
    .description('generate sample data')
    .command('movielens')
    .description('write the six MovieLens CSV files (seeded, with the real files\' quirks) to --out')
    .requiredOption('--out <dir>', 'folder to write them to')
    .option('--scale <scale>', `small, medium (ml-latest-small size) or 25m (ml-25m size)`, oneOf('--scale', Object.keys(SCALES)), 'small')
    .option('--seed <n>', 'random seed; the same seed gives the same files', integer('--seed'), 25)
    .action(
      action(async (opts: { out: string; scale: string; seed: number }) => {
        const result = await generateMovieLens(opts.out, opts.scale as Scale, opts.seed);
        process.stdout.write(`wrote MovieLens-shaped data (${opts.scale}) to ${resolve(opts.out)}\n`);
        for (const [file, rows] of Object.entries(result.rows)) process.stdout.write(`  ${file.padEnd(18)} ${rows.toLocaleString('en-US')} rows\n`);
      }),
    );
}
