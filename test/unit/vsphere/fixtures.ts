// SOAP fixtures for nock: responses shaped like vCenter's and vcsim's.
import nock from 'nock';
import type { VSphereConfig } from '../../../src/vsphere/config.js';
import { LOGIN_OK, SERVICE_CONTENT, soapResponse } from './soap-fixtures.js';

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

/** The currentSession read that uploads make first (client.ensureSession). */
const CURRENT_SESSION = soapResponse(
  'RetrievePropertiesEx',
  '<returnval><objects><obj type="SessionManager">SessionManager</obj><propSet><name>currentSession</name><val xsi:type="UserSession"><key>52b5</key><userName>VSPHERE.LOCAL\\Administrator</userName></val></propSet></objects></returnval>',
);

export function sessionCheck(scope: nock.Scope): nock.Scope {
  return scope
    .post(
      '/sdk',
      (b: string) => isCall('RetrievePropertiesEx')(b) && b.includes('<pathSet>currentSession</pathSet>'),
    )
    .reply(200, CURRENT_SESSION);
}
