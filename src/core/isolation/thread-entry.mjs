// Entry of a task's worker thread (isolation: 'worker'). Plain JavaScript: it must start
// without the TypeScript loader it then uses to load the task runner and the DAG file.
import { tsImport } from 'tsx/esm/api';

const { runTaskInThread } = await tsImport('./thread-task.ts', import.meta.url);
await runTaskInThread();
