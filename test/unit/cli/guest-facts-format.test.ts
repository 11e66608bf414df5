import { describe, expect, it } from 'vitest';
import { renderVmPlan } from '../../../src/cli/commands/plan.js';
import { renderGuestFacts } from '../../../src/cli/format/guest-facts.js';
import { buildPlan } from '../../../src/migration/build-plan.js';
import { parseGuestFacts } from '../../../src/migration/guest/parse.js';
import { config, efi2022, inventory } from '../migration/fixtures.js';
import { WIN2022_STDERR, win2022Static01 } from '../migration/guest/capture-fixtures.js';

const facts = () =>
  parseGuestFacts(win2022Static01(), { output: WIN2022_STDERR, capturedAt: '2026-12-02T00:00:00Z' });

describe('the guest facts as text', () => {
  it('v2o plan: a short section with adapters and addresses, disks, SAN policy', () => {
    const text = renderVmPlan(buildPlan({ ...inventory(efi2022()), guest: facts() }, config()), []);
    expect(text).toContain('  guest\n    WIN2022-STATIC01: Windows PowerShell 5.1');
    expect(text).toContain(
      'adapter "Prod LAN" 00:50:56:a1:30:01 192.0.2.41/24, 192.0.2.42/24, gateway 192.0.2.1',
    );
    expect(text).toContain('adapter "Backup" 00:50:56:a1:30:02 198.51.100.41/24');
    expect(text).toContain('disk 1  OFFLINE  20.0 GiB GPT  E:');
    expect(text).toContain('SAN policy OfflineShared; ghost adapters: vmxnet3 Ethernet Adapter #2');
  });

  it('v2o inventory --guest: every address, gateway with metric, route, DNS, suffix, register, MTU, category, volume GUIDs', () => {
    const text = renderGuestFacts(facts(), '  ', true).join('\n');
    for (const s of [
      '"Prod LAN"  00:50:56:a1:30:01  vmxnet3 Ethernet Adapter  Up  ifIndex 4',
      'static  192.0.2.41/24, 192.0.2.42/24',
      'gateways   192.0.2.1 (metric 256)',
      'routes     203.0.113.0/24 via 192.0.2.254 (metric 256)',
      'DNS        192.0.2.53, 192.0.2.54; suffix corp.example; register yes',
      'MTU 1500  category DomainAuthenticated',
      'category Private',
      'E:  \\\\?\\Volume{9b2d0e11-0000-0000-0000-300000000000}\\  NTFS "Data"',
      'SAN policy OfflineShared',
    ])
      expect(text).toContain(s);
  });
});
