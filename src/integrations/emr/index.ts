/** Amazon EMR: the calls orch makes and their errors. */
export { EmrApi, type EmrApiOptions } from './client.ts';
export { EmrApiError, EmrClusterEndedError, describeReason } from './errors.ts';
export { parseS3Uri, readLogTail, stepStderrUri } from './logs.ts';
