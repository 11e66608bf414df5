// SOAP envelopes shaped like vCenter's and vcsim's (no nock here: the TLS test runs a real server).
const ENV_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>';
const ENV_CLOSE = '</soapenv:Body></soapenv:Envelope>';

export function soapResponse(method: string, inner: string): string {
  return `${ENV_OPEN}<${method}Response xmlns="urn:vim25">${inner}</${method}Response>${ENV_CLOSE}`;
}

export function soapFault(name: string, message: string, detailInner = ''): string {
  return `${ENV_OPEN}<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>${message}</faultstring><detail><${name}Fault xmlns="urn:vim25" xsi:type="${name}">${detailInner}</${name}Fault></detail></soapenv:Fault>${ENV_CLOSE}`;
}

export const SERVICE_CONTENT = soapResponse(
  'RetrieveServiceContent',
  '<returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector><viewManager type="ViewManager">ViewManager</viewManager><about><name>VMware vCenter Server</name><fullName>VMware vCenter Server 8.0.2</fullName><vendor>VMware, Inc.</vendor><version>8.0.2</version><apiType>VirtualCenter</apiType><apiVersion>8.0.2.0</apiVersion></about><sessionManager type="SessionManager">SessionManager</sessionManager><searchIndex type="SearchIndex">SearchIndex</searchIndex><guestOperationsManager type="GuestOperationsManager">guestOperationsManager</guestOperationsManager></returnval>',
);

export const LOGIN_OK = soapResponse(
  'Login',
  '<returnval><key>52b5</key><userName>VSPHERE.LOCAL\\Administrator</userName><fullName>Administrator</fullName></returnval>',
);

export const LOGOUT_OK = soapResponse('Logout', '');
