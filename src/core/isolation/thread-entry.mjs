// Entry of a task's worker thread (isolation: 'worker'). Plain JavaScript: it must start
// without the TypeScript loader; it installs the same module hooks as the CLI (TypeScript, and
// `orch/sdk` from any folder), then loads the task runner and, through it, the DAG file.
import dagModules from '../dags/dag-modules.cjs';

await dagModules.installDagModuleHooks();
const { runTaskInThread } = await import('./thread-task.ts');
await runTaskInThread(dagModules.importDagFile);
