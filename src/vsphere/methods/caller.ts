// What the method functions need from a client: one SOAP call. VSphereClient adds re-login.
import type { XmlNode } from '../soap/xml.js';

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * Inspects a successful response inside the retry loop; throwing a NotAuthenticated fault here
   * triggers the one re-login (RetrievePropertiesEx reports a lost session per object, not as a fault).
   */
  check?: (response: XmlNode) => void;
}

export interface SoapCaller {
  call(method: string, body: string, opts?: CallOptions): Promise<XmlNode>;
}
