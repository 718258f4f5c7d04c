/** What can go wrong talking to EMR, each with a stable code and what to do about it. */
import { OrchError } from '../../errors.ts';

/** An EMR API call failed after the SDK's own retries (throttling and 5xx are retried there). */
export class EmrApiError extends OrchError {
  constructor(
    readonly operation: string,
    readonly awsCode: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('ORCH_EMR_API', `EMR ${operation} failed: ${awsCode}: ${detail}${hintFor(awsCode, detail)}`, options);
  }
}

function hintFor(code: string, detail: string): string {
  if (/Region is missing/i.test(detail)) return ' (set "region" under backends.emr in orch.config.json, or AWS_REGION)';
  if (/AccessDenied|UnauthorizedOperation/.test(code)) return ' (the AWS identity orch runs as lacks this permission; README "Run on EMR" lists the policy it needs)';
  if (/CredentialsProviderError|ExpiredToken|InvalidClientTokenId|UnrecognizedClient/.test(code))
    return ' (no valid AWS credentials: set AWS_PROFILE, run `aws sso login`, or give the environment keys)';
  if (/ValidationException|InvalidRequestException/.test(code)) return ' (EMR refused the request as written: check backends.emr in orch.config.json and cluster.create’s emr options)';
  return '';
}

/** The cluster reached a state it cannot come back from (TERMINATING, TERMINATED, TERMINATED_WITH_ERRORS). */
export class EmrClusterEndedError extends OrchError {
  override readonly retryable = false;
  constructor(
    readonly clusterId: string,
    readonly state: string,
    readonly reasonCode: string | undefined,
    readonly reasonMessage: string | undefined,
    while_: string,
  ) {
    super('ORCH_EMR_CLUSTER_ENDED', `EMR cluster ${clusterId} is ${state} ${while_}: ${describeReason(reasonCode, reasonMessage)}`);
  }
}

/** "BOOTSTRAP_FAILURE: bootstrap action 1 returned a non-zero return code", or what is known. */
export function describeReason(code: string | undefined, message: string | undefined): string {
  if (code && message) return `${code}: ${message}`;
  return code ?? message ?? 'EMR gave no reason';
}
