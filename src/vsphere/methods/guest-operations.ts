// GuestProcessManager and GuestFileManager methods. Guest credentials go into the body only.
import { child, children, el, moref, raw, textOf } from '../soap/xml.js';
import type { MoRef } from '../types.js';
import type { CallOptions, SoapCaller } from './caller.js';

export interface GuestCredentials {
  username: string;
  /** Never logged. */
  password: string;
}

export interface GuestProgramSpec {
  programPath: string;
  arguments?: string;
  workingDirectory?: string;
  envVariables?: string[];
}

export interface GuestProcessInfo {
  name: string;
  pid: number;
  owner: string;
  cmdLine: string;
  startTime?: string;
  endTime?: string;
  exitCode?: number;
}

/** A pure builder for NamePasswordAuthentication. */
export function toGuestAuth(creds: GuestCredentials): string {
  return raw(
    'auth',
    `${el('interactiveSession', false)}${el('username', creds.username)}${el('password', creds.password)}`,
    'NamePasswordAuthentication',
  );
}

export async function startProgramInGuest(
  c: SoapCaller,
  processManager: MoRef,
  vm: MoRef,
  creds: GuestCredentials,
  spec: GuestProgramSpec,
  opts?: CallOptions,
): Promise<number> {
  const s = `${el('programPath', spec.programPath)}${el('arguments', spec.arguments ?? '')}${el('workingDirectory', spec.workingDirectory)}${(spec.envVariables ?? []).map((e) => el('envVariables', e)).join('')}`;
  const res = await c.call(
    'StartProgramInGuest',
    `<StartProgramInGuest>${moref('_this', processManager)}${moref('vm', vm)}${toGuestAuth(creds)}${raw('spec', s, 'GuestProgramSpec')}</StartProgramInGuest>`,
    opts,
  );
  return Number(textOf(res, 'returnval'));
}

export async function listProcessesInGuest(
  c: SoapCaller,
  processManager: MoRef,
  vm: MoRef,
  creds: GuestCredentials,
  pids: number[] = [],
  opts?: CallOptions,
): Promise<GuestProcessInfo[]> {
  const res = await c.call(
    'ListProcessesInGuest',
    `<ListProcessesInGuest>${moref('_this', processManager)}${moref('vm', vm)}${toGuestAuth(creds)}${pids.map((p) => el('pids', p)).join('')}</ListProcessesInGuest>`,
    opts,
  );
  return children(res, 'returnval').map((p) => {
    const exit = textOf(p, 'exitCode');
    return {
      name: textOf(p, 'name') ?? '',
      pid: Number(textOf(p, 'pid')),
      owner: textOf(p, 'owner') ?? '',
      cmdLine: textOf(p, 'cmdLine') ?? '',
      startTime: textOf(p, 'startTime'),
      endTime: textOf(p, 'endTime') || undefined,
      exitCode: exit === undefined || exit === '' ? undefined : Number(exit),
    };
  });
}

/** Returns the URL to PUT the file to (its host may be `*`). */
export async function initiateFileTransferToGuest(
  c: SoapCaller,
  fileManager: MoRef,
  vm: MoRef,
  creds: GuestCredentials,
  guestFilePath: string,
  fileSize: number,
  overwrite: boolean,
  opts?: CallOptions,
): Promise<string> {
  const res = await c.call(
    'InitiateFileTransferToGuest',
    `<InitiateFileTransferToGuest>${moref('_this', fileManager)}${moref('vm', vm)}${toGuestAuth(creds)}${el('guestFilePath', guestFilePath)}${raw('fileAttributes', '', 'GuestFileAttributes')}${el('fileSize', fileSize)}${el('overwrite', overwrite)}</InitiateFileTransferToGuest>`,
    opts,
  );
  return textOf(res, 'returnval') ?? '';
}

/** MakeDirectoryInGuest; faults FileAlreadyExists when the directory is there. */
export async function makeDirectoryInGuest(
  c: SoapCaller,
  fileManager: MoRef,
  vm: MoRef,
  creds: GuestCredentials,
  directoryPath: string,
  createParentDirectories: boolean,
  opts?: CallOptions,
): Promise<void> {
  await c.call(
    'MakeDirectoryInGuest',
    `<MakeDirectoryInGuest>${moref('_this', fileManager)}${moref('vm', vm)}${toGuestAuth(creds)}${el('directoryPath', directoryPath)}${el('createParentDirectories', createParentDirectories)}</MakeDirectoryInGuest>`,
    opts,
  );
}

export async function deleteFileInGuest(
  c: SoapCaller,
  fileManager: MoRef,
  vm: MoRef,
  creds: GuestCredentials,
  filePath: string,
  opts?: CallOptions,
): Promise<void> {
  await c.call(
    'DeleteFileInGuest',
    `<DeleteFileInGuest>${moref('_this', fileManager)}${moref('vm', vm)}${toGuestAuth(creds)}${el('filePath', filePath)}</DeleteFileInGuest>`,
    opts,
  );
}

export interface FileTransferInformation {
  size: number;
  url: string;
}

export async function initiateFileTransferFromGuest(
  c: SoapCaller,
  fileManager: MoRef,
  vm: MoRef,
  creds: GuestCredentials,
  guestFilePath: string,
  opts?: CallOptions,
): Promise<FileTransferInformation> {
  const res = await c.call(
    'InitiateFileTransferFromGuest',
    `<InitiateFileTransferFromGuest>${moref('_this', fileManager)}${moref('vm', vm)}${toGuestAuth(creds)}${el('guestFilePath', guestFilePath)}</InitiateFileTransferFromGuest>`,
    opts,
  );
  const rv = child(res, 'returnval');
  return { size: Number(textOf(rv, 'size') ?? 0), url: textOf(rv, 'url') ?? '' };
}
