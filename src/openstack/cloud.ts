// openCloud: authenticate once, find every service's endpoint, negotiate microversions, and hand
// back one client per service sharing the token and the keep-alive sockets.
import type { Logger } from 'pino';
import { Http, type Sleep } from './client/http.js';
import { negotiateMicroversion } from './client/microversion.js';
import { ServiceClient } from './client/service-client.js';
import type { CloudConfig } from './config.js';
import { Identity } from './identity/identity.js';

export type ServiceName = 'image' | 'compute' | 'volume' | 'network';

export interface OpenCloudOptions {
  log?: Logger;
  signal?: AbortSignal;
  /** Services to set up (default: all four); a missing one is a ConfigError at open time. */
  services?: ServiceName[];
  /** Highest microversions wanted; the service's maximum is used when lower. */
  computeMicroversion?: string;
  volumeMicroversion?: string;
  /** Injected in tests (retry back-off and Retry-After waits). */
  sleep?: Sleep;
  /** Socket inactivity limit for ordinary calls. */
  timeoutMs?: number;
  /** TCP connect + TLS handshake limit (default 15 s). */
  connectTimeoutMs?: number;
}

/** Microversions v2o asks for: compute 2.79 (needs ≥ 2.52 for server tags), volume 3.60 (≥ 3.3 messages). */
export const WANTED_MICROVERSIONS = {
  compute: { wanted: '2.79', min: '2.52' },
  volume: { wanted: '3.60', min: '3.3' },
} as const;

export interface Cloud {
  readonly config: CloudConfig;
  readonly identity: Identity;
  /** Keystone v3 (…/v3). */
  readonly identityClient: ServiceClient;
  /** Glance v2 (endpoint ends in /v2). */
  readonly image: ServiceClient;
  /** Nova with a negotiated microversion. */
  readonly compute: ServiceClient;
  /** Cinder v3 with a negotiated microversion. */
  readonly volume: ServiceClient;
  /** Neutron (endpoint ends in /v2.0). */
  readonly network: ServiceClient;
  /** The agents and got instance the service clients share. */
  readonly http: Http;
  /** Revoke the token and close idle sockets. */
  close(): Promise<void>;
}

export async function openCloud(config: CloudConfig, opts: OpenCloudOptions = {}): Promise<Cloud> {
  const http = new Http({
    cacert: config.cacert,
    insecure: config.insecure,
    log: opts.log,
    userAgent: 'v2o/0.1 (OpenStack client)',
    timeoutMs: opts.timeoutMs,
    connectTimeoutMs: opts.connectTimeoutMs,
    sleep: opts.sleep,
  });
  if (config.insecure) {
    opts.log?.warn(
      { cloud: config.name },
      'TLS verification is off for this cloud (insecure / verify: false)',
    );
  }
  const identity = new Identity(config, http);
  try {
    await identity.authenticate(opts.signal);
    const wanted = new Set<ServiceName>(opts.services ?? ['image', 'compute', 'volume', 'network']);
    const make = (serviceType: string, endpoint: string, microversionService?: string) =>
      new ServiceClient({
        serviceType,
        endpoint,
        auth: identity,
        http,
        microversionService,
      });
    const unavailable = (name: ServiceName) =>
      new Proxy({} as ServiceClient, {
        get() {
          throw new Error(`the ${name} client was not opened (openCloud services option)`);
        },
      });

    const identityClient = make(
      'identity',
      await identity.endpointFor('identity', opts.signal).catch(() => config.auth.authUrl),
    );
    let image = unavailable('image');
    let compute = unavailable('compute');
    let volume = unavailable('volume');
    let network = unavailable('network');
    if (wanted.has('image')) {
      const ep = (await identity.endpointFor('image', opts.signal)).replace(/\/+$/, '');
      image = make('image', /\/v2(\.\d+)?$/.test(ep) ? ep.replace(/\/v2\.\d+$/, '/v2') : `${ep}/v2`);
    }
    if (wanted.has('compute')) {
      const c = make('compute', await identity.endpointFor('compute', opts.signal), 'compute');
      compute = await negotiateMicroversion(
        c,
        opts.computeMicroversion ?? WANTED_MICROVERSIONS.compute.wanted,
        {
          min: WANTED_MICROVERSIONS.compute.min,
          signal: opts.signal,
        },
      );
    }
    if (wanted.has('volume')) {
      const v = make('block-storage', await identity.endpointFor('block-storage', opts.signal), 'volume');
      volume = await negotiateMicroversion(v, opts.volumeMicroversion ?? WANTED_MICROVERSIONS.volume.wanted, {
        min: WANTED_MICROVERSIONS.volume.min,
        signal: opts.signal,
      });
    }
    if (wanted.has('network')) {
      const ep = (await identity.endpointFor('network', opts.signal)).replace(/\/+$/, '');
      network = make('network', /\/v2\.0$/.test(ep) ? ep : `${ep}/v2.0`);
    }
    return {
      config,
      identity,
      identityClient,
      image,
      compute,
      volume,
      network,
      http,
      async close() {
        await identity.close();
        http.destroy();
      },
    };
  } catch (err) {
    http.destroy();
    throw err;
  }
}
