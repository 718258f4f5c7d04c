/**
 * The end of a step's log in S3 (EMR writes `<logUri>/<cluster>/steps/<step>/stderr.gz`),
 * so a failed step says why in the task log instead of only where to look.
 */
import { gunzipSync } from 'node:zlib';
import { EmrApiError } from './errors.ts';

/** `s3://bucket/key` → its parts; undefined for anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3[an]?:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

/** Where EMR puts a step's stderr under the cluster's log URI. */
export function stepStderrUri(logUri: string, clusterId: string, stepId: string): string {
  return `${logUri.replace(/\/+$/, '')}/${clusterId}/steps/${stepId}/stderr.gz`;
}

/** The last `lines` lines of a (possibly gzipped) log object; the S3 SDK loads only when called. */
export async function readLogTail(uri: string, lines: number, options: { region?: string; endpoint?: string; signal?: AbortSignal } = {}): Promise<string[]> {
  const where = parseS3Uri(uri);
  if (!where) throw new EmrApiError('GetObject', 'NotS3', `${uri} is not an s3:// URI`);
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ region: options.region, endpoint: options.endpoint });
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: where.bucket, Key: where.key }), { abortSignal: options.signal });
    const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    const text = (where.key.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    return text.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-lines);
  } catch (err) {
    if (err instanceof EmrApiError) throw err;
    const e = err as Error & { name?: string };
    throw new EmrApiError('GetObject', e.name ?? 'Error', `${uri}: ${e.message}`, { cause: err });
  } finally {
    client.destroy();
  }
}
