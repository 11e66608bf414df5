// SOAP fixtures for nock: responses shaped like vCenter's and vcsim's.
import nock from 'nock';
import type { VSphereConfig } from '../../../src/vsphere/config.js';
import { LOGIN_OK, SERVICE_CONTENT } from './soap-fixtures.js';

export * from './soap-fixtures.js';
export const VC = 'https://vc.test';

export const config: VSphereConfig = {
  url: new URL(`${VC}/sdk`),
  username: 'admin@vsphere.local',
  password: 's3cret&<pw>',
};

/** Matches a SOAP request by its method element. */
export function isCall(method: string) {
  return (body: unknown) => typeof body === 'string' && body.includes(`<${method} xmlns="urn:vim25">`);
}

/** A scope with RetrieveServiceContent + Login answered (the session cookie is set by Login). */
export function connectScope(cookie = 'vmware_soap_session="abc"'): nock.Scope {
  return nock(VC)
    .post('/sdk', isCall('RetrieveServiceContent'))
    .reply(200, SERVICE_CONTENT)
    .post('/sdk', isCall('Login'))
    .reply(200, LOGIN_OK, { 'Set-Cookie': `${cookie}; Path=/; HttpOnly; Secure` });
}
