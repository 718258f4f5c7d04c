/** The engine's command-line flags, shared by `src/engine/main.ts` (and usable by the CLI). */
import { idleTimeoutMs } from './idle.ts';
import type { AuthSources } from './auth.ts';
import type { EngineOptions } from './index.ts';

const USAGE =
  'usage: engine [--port N] [--host 127.0.0.1] [--max-sessions N] [--memory-limit SIZE|N%] [--idle-timeout DURATION] [--csrf] [--home DIR] [--token-file FILE] [--auth-user NAME --auth-password-file FILE]';

/** Parse the engine's flags; throws with the usage line on anything unknown. */
export function parseEngineArgs(argv: readonly string[]): EngineOptions & { authFrom?: AuthSources } {
  const options: EngineOptions & { authFrom?: AuthSources } = {};
  const auth = (): AuthSources => (options.authFrom ??= {});
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  const integer = (text: string, flag: string): number => {
    if (!/^\d+$/.test(text)) throw new Error(`${flag} must be a non-negative integer, got '${text}'\n${USAGE}`);
    return Number(text);
  };
  const duration = (text: string): string => {
    try {
      idleTimeoutMs(text);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${USAGE}`);
    }
    return text;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    switch (flag) {
      case '--port': options.port = integer(value(i++, flag), flag); break;
      case '--host': options.host = value(i++, flag); break;
      case '--max-sessions': options.maxSessions = integer(value(i++, flag), flag); break;
      case '--memory-limit': options.memoryLimit = value(i++, flag); break;
      case '--idle-timeout': options.idleTimeout = duration(value(i++, flag)); break;
      case '--home': options.home = value(i++, flag); break;
      case '--csrf': options.csrf = true; break;
      case '--token-file': auth().tokenFile = value(i++, flag); break;
      case '--auth-user': auth().authUser = value(i++, flag); break;
      case '--auth-password-file': auth().authPasswordFile = value(i++, flag); break;
      default: throw new Error(`unknown option '${flag}'\n${USAGE}`);
    }
  }
  return options;
}
