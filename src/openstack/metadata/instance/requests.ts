// GET of the metadata document. Not a Keystone-authenticated service: the metadata service answers
// the server the request comes from (169.254.169.254 by default, or a config drive's copy elsewhere),
// so a plain GET with a short timeout: off OpenStack nothing listens there.
import { V2oError } from '../../../errors.js';
import { type InstanceMetadata, toInstanceMetadata } from './results.js';

export class MetadataServiceError extends V2oError {}

export async function getInstanceMetadata(
  metadataUrl: string,
  o: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<InstanceMetadata> {
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 10_000);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const hint =
    'v2o is not running on an OpenStack server (or its metadata service is off): set conversionHost.server ' +
    'to the name or id of the server v2o runs on, or conversionHost.metadataUrl to where its meta_data.json is';
  let res: Response;
  try {
    res = await fetch(metadataUrl, { signal, headers: { accept: 'application/json' } });
  } catch (err) {
    throw new MetadataServiceError(`the metadata service at ${metadataUrl} did not answer`, {
      hint,
      cause: err,
    });
  }
  if (res.status !== 200) {
    throw new MetadataServiceError(`GET ${metadataUrl}: HTTP ${res.status}`, { hint });
  }
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  const md = body ? toInstanceMetadata(body) : undefined;
  if (!md?.uuid)
    throw new MetadataServiceError(`${metadataUrl} is not an instance metadata document (no uuid)`, { hint });
  return md;
}
