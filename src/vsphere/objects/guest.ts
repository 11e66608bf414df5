// Guest operations through VMware Tools: run a program and wait for its exit code, copy files in
// and out. Guest credentials are sent in SOAP bodies only and never logged.
import { setTimeout as sleep } from 'node:timers/promises';
import { V2oError } from '../../errors.js';
import { isFault, VSphereTimeoutError } from '../errors.js';
import {
  deleteFileInGuest,
  type GuestCredentials,
  initiateFileTransferFromGuest,
  initiateFileTransferToGuest,
  listProcessesInGuest,
  makeDirectoryInGuest,
  startProgramInGuest,
} from '../methods/guest-operations.js';
import type { MoRef } from '../types.js';
import type { VSphereClient } from './client.js';
import { expectStatus, resolveStarHost } from './http.js';
import { retrieveOne } from './property.js';

export type { GuestCredentials };

async function managers(
  client: VSphereClient,
  signal?: AbortSignal,
): Promise<{ processManager: MoRef; fileManager: MoRef }> {
  const gom = client.serviceContent.guestOperationsManager;
  if (!gom)
    throw new V2oError('this vSphere endpoint has no guest operations manager', {
      hint: 'guest operations need vCenter or ESXi 5+',
    });
  const o = await retrieveOne(client, gom, ['processManager', 'fileManager'], { signal });
  return { processManager: o.props.processManager as MoRef, fileManager: o.props.fileManager as MoRef };
}

export interface RunInGuestOptions {
  /** Absolute path of the program, e.g. C:\Windows\System32\pnputil.exe */
  program: string;
  /** The command line after the program, as one string (Windows quoting rules apply). */
  args?: string;
  workingDir?: string;
  env?: string[];
  /** Default 10 min. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How often ListProcessesInGuest is asked for the exit code (default 1 s; guest processes have no property updates). */
  pollIntervalMs?: number;
}

/** Starts a program in the guest and waits for it to exit. A non-zero exit code is returned, not thrown. */
export async function runInGuest(
  client: VSphereClient,
  vm: MoRef,
  creds: GuestCredentials,
  opts: RunInGuestOptions,
): Promise<{ pid: number; exitCode: number }> {
  const { processManager } = await managers(client, opts.signal);
  const pid = await startProgramInGuest(
    client,
    processManager,
    vm,
    creds,
    {
      programPath: opts.program,
      arguments: opts.args ?? '',
      workingDirectory: opts.workingDir,
      envVariables: opts.env,
    },
    { signal: opts.signal },
  );
  client.log?.debug({ vm: vm.value, program: opts.program, pid }, 'guest program started');
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const started = Date.now();
  const poll = opts.pollIntervalMs ?? 1000;
  for (;;) {
    const [p] = await listProcessesInGuest(client, processManager, vm, creds, [pid], { signal: opts.signal });
    if (p?.endTime) return { pid, exitCode: p.exitCode ?? 0 };
    if (!p)
      throw new V2oError(`guest process ${pid} (${opts.program}) disappeared before reporting an exit code`);
    if (Date.now() - started >= timeoutMs) {
      throw new VSphereTimeoutError(
        `${opts.program} (pid ${pid}) still running in the guest after ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await sleep(poll, undefined, { signal: opts.signal });
  }
}

/** Writes `data` to `guestPath` in the guest (replacing it unless overwrite is false). */
export async function uploadToGuest(
  client: VSphereClient,
  vm: MoRef,
  creds: GuestCredentials,
  guestPath: string,
  data: Buffer | string,
  opts: { overwrite?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const { fileManager } = await managers(client, opts.signal);
  const raw = await initiateFileTransferToGuest(
    client,
    fileManager,
    vm,
    creds,
    guestPath,
    body.length,
    opts.overwrite ?? true,
    {
      signal: opts.signal,
    },
  );
  const url = resolveStarHost(raw, client.host);
  const res = await client.transport.request({
    method: 'PUT',
    url,
    headers: { 'Content-Type': 'application/octet-stream' },
    body,
    signal: opts.signal,
    session: false,
  });
  await expectStatus(res, 'PUT', url, [200, 201, 204]);
  res.resume();
}

/** Creates `guestPath` (and its parents) in the guest; a directory already there is fine. */
export async function makeGuestDirectory(
  client: VSphereClient,
  vm: MoRef,
  creds: GuestCredentials,
  guestPath: string,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const { fileManager } = await managers(client, opts.signal);
  try {
    await makeDirectoryInGuest(client, fileManager, vm, creds, guestPath, true, { signal: opts.signal });
  } catch (err) {
    if (!isFault(err, 'FileAlreadyExists')) throw err;
  }
}

/** Deletes a file in the guest; one that is not there (FileNotFound) is fine. */
export async function deleteGuestFile(
  client: VSphereClient,
  vm: MoRef,
  creds: GuestCredentials,
  guestPath: string,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const { fileManager } = await managers(client, opts.signal);
  try {
    await deleteFileInGuest(client, fileManager, vm, creds, guestPath, { signal: opts.signal });
  } catch (err) {
    if (!isFault(err, 'FileNotFound')) throw err;
  }
}

/** Reads a file from the guest. Use `.toString('utf8')` (or 'utf16le' for some Windows tools' output) for text. */
export async function downloadFromGuest(
  client: VSphereClient,
  vm: MoRef,
  creds: GuestCredentials,
  guestPath: string,
  opts: { signal?: AbortSignal; maxBytes?: number } = {},
): Promise<Buffer> {
  const { fileManager } = await managers(client, opts.signal);
  const info = await initiateFileTransferFromGuest(client, fileManager, vm, creds, guestPath, {
    signal: opts.signal,
  });
  const max = opts.maxBytes ?? 256 * 1024 * 1024;
  if (info.size > max) throw new V2oError(`guest file ${guestPath} is ${info.size} bytes, more than ${max}`);
  const url = resolveStarHost(info.url, client.host);
  const res = await client.transport.request({ method: 'GET', url, signal: opts.signal, session: false });
  await expectStatus(res, 'GET', url, [200]);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > max) {
      res.destroy();
      throw new V2oError(`guest file ${guestPath} is larger than ${max} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
