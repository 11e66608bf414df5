// `v2o guest-script <plan> --vm NAME`: the driver recipe `auto` mode runs through guest operations,
// as one PowerShell script for the operator to run in the guest (drivers.mode: manual, or a guest
// v2o cannot reach). Reads the inventory (read-only) to know the Windows release; writes no run.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { CommandModule } from '../command.js';
import { globalOptions, stateDirOf } from '../context.js';
import { exitCodesHelp } from './help.js';

interface GuestScriptOptions {
  vm: string;
  out?: string;
  run?: string;
}

export const guestScriptCommand: CommandModule = {
  register(program: Command) {
    program
      .command('guest-script')
      .description('write the driver preparation of one VM as a PowerShell script to run in the guest')
      .argument('<plan-file>', 'the migration plan (YAML)')
      .requiredOption('--vm <name>', 'the VM of the plan')
      .option('--out <file>', 'write the script to this file instead of stdout')
      .option(
        '--run <id>',
        "also register the first-boot task that reports this run's first boot (verify-boot)",
      )
      .addHelpText(
        'after',
        `\nThe script finds the virtio-win ISO on a CD-ROM, stages the drivers with the pnputil syntax of that
Windows, copies the boot driver's .sys, writes its service key and makes storahci boot-critical for
the SATA fallback: what \`drivers.mode: auto\` does through VMware Tools. Run it as an administrator.
With --run (the manual gate prints the command with it) the script also registers the first-boot
task that reports that run's first boot on OpenStack; without it verify-boot waits in vain.

Example:
  v2o guest-script plan.yaml --vm win2019-app01 --run r-1a2b3c4d --out v2o-drivers.ps1
  # in the guest:  powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\v2o-drivers.ps1
  v2o approve <run> && v2o resume <run>
${exitCodesHelp([0, 2])}`,
      )
      .action(async (file: string, o: GuestScriptOptions, cmd: Command) => {
        const { loadPlanFile } = await import('../../migration/plan-file.js');
        const { connectServices, closeServices } = await import('../../migration/connect.js');
        const { prepareVms } = await import('../../migration/prepare.js');
        const { silentLogger } = await import('../../engine/logger.js');
        const { guestScript } = await import('../../migration/driver-recipe.js');
        const { firstbootGuestScript } = await import('../../migration/firstboot/script.js');
        const { firstbootConfigV2 } = await import('../../migration/firstboot/config.js');
        const plan = loadPlanFile(file);
        const services = await connectServices({
          source: plan.source,
          target: plan.target,
          env: process.env,
          log: silentLogger(),
          stateDir: stateDirOf(globalOptions(cmd)),
        });
        try {
          const [vm] = await prepareVms(plan, services, { vm: o.vm });
          const drivers = vm?.plan.drivers;
          if (!vm || !drivers) {
            const why = vm?.plan.blockers.find((b) => /windows/.test(b.code));
            throw new ConfigError(
              `no driver recipe for VM "${o.vm}": ${why?.message ?? 'its Windows version is not known'}`,
              { hint: why?.fix ?? `check the VM with \`v2o inventory --vm '${o.vm}'\`` },
            );
          }
          const script =
            guestScript(drivers, {
              vm: o.vm,
              windowsLabel: vm.plan.windows?.label ?? 'Windows',
              next: 'v2o approve <run> && v2o resume <run> (v2o verifies the drivers before shutdown)',
            }) +
            (o.run
              ? firstbootGuestScript(
                  firstbootConfigV2({ runId: o.run, expectBus: drivers.bus, plan: vm.params.plan }),
                  { guestAgentIsoPath: drivers.guestAgentMsi },
                )
              : '');
          if (o.out) {
            writeFileSync(o.out, script);
            process.stderr.write(`wrote ${o.out}\n`);
          } else process.stdout.write(script);
        } finally {
          await closeServices(services);
        }
      });
  },
};
