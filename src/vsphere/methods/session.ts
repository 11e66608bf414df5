// ServiceInstance and SessionManager methods.
import { child, el, moref, textOf, toMoRef, type XmlNode } from '../soap/xml.js';
import type { MoRef, ServiceContent } from '../types.js';
import type { CallOptions, SoapCaller } from './caller.js';

const SERVICE_INSTANCE: MoRef = { type: 'ServiceInstance', value: 'ServiceInstance' };

export async function retrieveServiceContent(c: SoapCaller, opts?: CallOptions): Promise<ServiceContent> {
  const res = await c.call(
    'RetrieveServiceContent',
    `<RetrieveServiceContent>${moref('_this', SERVICE_INSTANCE)}</RetrieveServiceContent>`,
    opts,
  );
  return decodeServiceContent(child(res, 'returnval')!);
}

export function decodeServiceContent(n: XmlNode): ServiceContent {
  const ref = (name: string) => toMoRef(child(n, name));
  const about = child(n, 'about');
  return {
    rootFolder: ref('rootFolder')!,
    propertyCollector: ref('propertyCollector')!,
    viewManager: ref('viewManager')!,
    sessionManager: ref('sessionManager')!,
    searchIndex: ref('searchIndex'),
    guestOperationsManager: ref('guestOperationsManager'),
    fileManager: ref('fileManager'),
    about: {
      name: textOf(about, 'name') ?? '',
      fullName: textOf(about, 'fullName') ?? '',
      version: textOf(about, 'version') ?? '',
      apiType: textOf(about, 'apiType') ?? '',
      apiVersion: textOf(about, 'apiVersion') ?? '',
      instanceUuid: textOf(about, 'instanceUuid'),
    },
  };
}

export interface UserSession {
  key: string;
  userName: string;
}

/** SessionManager.Login. The password goes into the body only; nothing here logs. */
export async function login(
  c: SoapCaller,
  sessionManager: MoRef,
  userName: string,
  password: string,
  opts?: CallOptions,
): Promise<UserSession> {
  const res = await c.call(
    'Login',
    `<Login>${moref('_this', sessionManager)}${el('userName', userName)}${el('password', password)}</Login>`,
    opts,
  );
  const rv = child(res, 'returnval');
  return { key: textOf(rv, 'key') ?? '', userName: textOf(rv, 'userName') ?? userName };
}

export async function logout(c: SoapCaller, sessionManager: MoRef, opts?: CallOptions): Promise<void> {
  await c.call('Logout', `<Logout>${moref('_this', sessionManager)}</Logout>`, opts);
}
