// A running guest for unit tests: answers the capture with `files` (as the capture fixtures write
// them) and honours contract §C's pre-shutdown commands by changing those files.
import type { SourceOps } from '../../../../src/migration/services.js';
import { fakeSource } from '../fakes.js';
import { ps } from './capture-fixtures.js';

export interface FakeGuest {
  files: Record<string, string | undefined>;
  /** Scripts PowerShell ran (decoded), and cmd.exe command lines. */
  commands: string[];
  /** Exit code for a command matching the pattern. */
  fail?: { match: RegExp; exitCode: number; output: string };
}

const decode = (cmd: string) => Buffer.from(cmd.split(' ').pop()!, 'base64').toString('utf16le');

function bitlocker(g: FakeGuest, mp: string, status: 0 | 1): boolean {
  const text = g.files.bitlocker?.replace(/^\uFEFF/, '').trim();
  const list = text ? [JSON.parse(text)].flat() : [];
  const v = list.find((x: { MountPoint: string }) => x.MountPoint === mp);
  if (!v) return false;
  v.ProtectionStatus = status;
  g.files.bitlocker = ps(list);
  return true;
}

export function guestSource(g: FakeGuest, over: Partial<SourceOps> = {}): SourceOps & { calls: string[] } {
  let dir: string | undefined;
  const src = fakeSource({
    runProgramInGuest: async (vm, c, program, args) => {
      const r = await src.runInGuest(vm, c, `${program} ${args}`);
      return { exitCode: r.exitCode };
    },
    runInGuest: async (_vm, _c, command) => {
      const line = /powershell\.exe -NoProfile/i.test(command) ? decode(command) : command;
      g.commands.push(line);
      src.calls.push(line.split('\n')[0]!);
      if (g.fail?.match.test(line)) return { exitCode: g.fail.exitCode, output: g.fail.output };
      const d = /^\$d = '([^']+)'/.exec(line);
      if (d) dir = d[1];
      const bl = /^(Suspend|Resume)-BitLocker -MountPoint '([^']+)'/.exec(line);
      if (bl && !bitlocker(g, bl[2]!, bl[1] === 'Suspend' ? 0 : 1))
        return { exitCode: 1, output: `Suspend-BitLocker : The volume ${bl[2]} could not be found.` };
      const rtiu = /RealTimeIsUniversal \/t REG_DWORD \/d ([01]) \/f$/.exec(line);
      if (rtiu) g.files['reg-tz'] = ps({ RealTimeIsUniversal: Number(rtiu[1]) });
      return { exitCode: 0, output: '' };
    },
    readGuestFile: async (_vm, _c, path) => {
      if (!dir || !path.startsWith(`${dir}\\`)) return undefined;
      const text = g.files[path.slice(dir.length + 1).replace(/\.json$/, '')];
      return text === undefined ? undefined : Buffer.from(text, 'utf8');
    },
    ...over,
  });
  return src;
}
