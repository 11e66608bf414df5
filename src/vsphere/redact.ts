// Log redaction for the vSphere client: the project-wide list (src/engine/logger.ts) plus the
// names this client uses for secrets. The client itself never logs passwords, cookies or bodies.
import { REDACTED, redactPaths } from '../engine/logger.js';

export const vsphereRedactPaths: readonly string[] = [
  ...redactPaths,
  'GOVC_PASSWORD',
  '*.GOVC_PASSWORD',
  'creds.password',
  '*.creds.password',
  'config.password',
  '*.config.password',
];

export const vsphereRedactOptions = { paths: [...vsphereRedactPaths], censor: REDACTED };
