/** XCom values are JSON: what a task returns must survive the trip. */
import { errorText } from './executor.ts';

/** The value as it will be stored (JSON), or an error naming the task when it cannot be. */
export function jsonValue(value: unknown, taskId: string): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new Error(`task '${taskId}' returned a value that cannot be stored as XCom (JSON): ${errorText(err)}`);
  }
  if (text === undefined) throw new Error(`task '${taskId}' returned a ${typeof value}, which cannot be stored as XCom (JSON)`);
  return JSON.parse(text);
}
