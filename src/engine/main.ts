/**
 * Stand-alone entry of the engine, for running it as its own process without the CLI
 * (in a checkout, with the dev dependencies: `node --import tsx src/engine/main.ts --port 8998`); `orch engine` takes the same flags.
 */
import { parseEngineArgs } from './args.ts';
import { runEngineCommand } from './index.ts';
import type { EngineOptions } from './index.ts';

let options: EngineOptions | undefined;
try {
  options = parseEngineArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 2;
}
if (options) process.exitCode = await runEngineCommand(options);
