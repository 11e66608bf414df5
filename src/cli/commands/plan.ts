// `v2o plan plan.yaml [--json] [--vm NAME]`: what a migration would do, per VM and step, with
// concrete values. Read-only against vCenter and OpenStack; writes no run. Exit 2 when blocked.
// Without a plan file it shows a built-in workflow (`--workflow example`), for trying the engine.
import type { Command } from 'commander';
import { ExitCode } from '../../errors.js';
import { formatBytes } from '../../format-bytes.js';
import type { VmPlan } from '../../migration/build-plan.js';
import { controllerLabel } from '../../vsphere/controllers.js';
import type { CommandModule } from '../command.js';
import { globalOptions, stateDirOf } from '../context.js';
import { renderGuestFacts } from '../format/guest-facts.js';
import { exitCodesHelp } from './help.js';
import { addWorkflowOptions, chooseWorkflow, type WorkflowChoice } from './workflow-options.js';

interface PlanOptions extends WorkflowChoice {
  json?: boolean;
  vm?: string;
}

/** The human view of one VM's plan. */
export function renderVmPlan(
  p: VmPlan,
  steps: { id: string; plan: { summary: string; skip?: boolean } }[],
): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);
  line(`${p.vm}: ${p.ready ? 'ready' : 'BLOCKED'}`);
  if (p.source) {
    const s = p.source;
    line(
      `  source     ${p.windows ? `${p.windows.label} (virtio-win ${p.windows.folder})` : s.guestId}, ${s.firmware}${s.secureBoot ? ' + secure boot' : ''}${s.vtpm ? ' + vTPM' : ''}, ${s.cpus} vCPU, ${s.memoryMiB} MiB, ${s.powerState}, VMware Tools ${s.toolsRunning ? 'running' : 'not running'}`,
    );
  }
  if (p.flavor) {
    const f = p.flavor;
    line(
      `  flavor     ${f.name} (${f.vcpus} vCPU, ${f.ramMiB} MiB, ${f.diskGiB} GiB disk; ${f.chosenBy === 'plan' ? 'from the plan' : 'best match'})`,
    );
  }
  if (p.drivers) {
    const d = p.drivers;
    line(
      `  drivers    ${d.mode}: ${d.install.map((i) => i.isoDir).join(', ') || 'none'}; boot-critical ${d.bootCriticalService} (Start=0)`,
    );
    if (d.iso)
      line(
        `  ISO        ${d.iso.url ?? d.iso.path}${d.iso.sha256 ? ` sha256 ${d.iso.sha256.slice(0, 16)}…` : ''} → datastore ${d.iso.datastore}`,
      );
  }
  line(`  boot       from ${p.bootFromVolume ? 'a volume' : 'the image'}`);
  for (const d of p.disks) {
    line(
      `  disk${d.index}      ${d.label} ${formatBytes(d.sizeBytes)} (${d.sourceFile}, ${controllerLabel(d.controller)}), ${d.role}`,
    );
    const toVolume = d.route === 'volume';
    if (!toVolume) {
      line(
        `             → image ${d.image.name} (${d.image.diskFormat}, min_disk ${d.image.minDiskGiB} GiB)`,
      );
      for (const [k, v] of Object.entries(d.image.properties)) line(`                 ${k}=${v}`);
    }
    if (d.volume)
      line(
        `             → volume ${d.volume.name} (${d.volume.sizeGiB} GiB${d.volume.bootable ? ', bootable' : ''}${d.volume.volumeType ? `, type ${d.volume.volumeType}` : ''})${toVolume ? ', written on the conversion host from the flat extent' : d.volume ? ', created from the image' : ''}`,
      );
    line(
      `             route ${toVolume ? 'volume' : 'image'}: ${d.resumesMidDisk ? 'resumes mid-disk (checkpointed extents)' : 'a killed copy starts this disk again (a Glance upload cannot be resumed)'}${d.allocatedAreas ? `; ${d.allocatedAreas}` : ''}`,
    );
  }
  for (const port of p.ports) {
    const ips =
      port.fixedIps?.map((f) => `${f.ipAddress}/${f.prefixLength}`) ?? (port.fixedIp ? [port.fixedIp] : []);
    const guest = port.guestAdapter ? `, guest adapter "${port.guestAdapter}"` : '';
    line(
      `  port       ${port.name}: ${port.nicLabel} ${port.sourceMac}${guest} on "${port.portGroup}" → network ${port.networkName}${port.macAddress ? ', MAC kept' : ', new MAC'}${ips.length ? `, IP ${ips.join(', ')}` : ', address by DHCP'}`,
    );
    if (port.allowedAddressPairs?.length)
      line(
        `             allowed address pairs ${port.allowedAddressPairs.map((a) => a.ipAddress).join(', ')}`,
      );
  }
  if (p.guest) {
    line('  guest');
    for (const l of renderGuestFacts(p.guest, '    ')) line(l);
  }
  line(`  local disk ${formatBytes(p.localSpaceBytes)} needed for conversions`);
  line(
    `  afterwards the source VM ${p.sourceAfter === 'power-on' ? 'is powered on again' : 'stays powered off'}`,
  );
  line('  steps');
  steps.forEach((s, i) => {
    line(`    ${String(i + 1).padStart(2)}. ${s.id}: ${s.plan.skip ? '(skipped) ' : ''}${s.plan.summary}`);
  });
  for (const w of p.warnings) line(`  warning: ${w.message}\n           fix: ${w.fix}`);
  for (const b of p.blockers) line(`  BLOCKER: ${b.message}\n           fix: ${b.fix}`);
  return out.join('\n');
}

async function planFromFile(file: string, o: PlanOptions, cmd: Command): Promise<number> {
  const { loadPlanFile } = await import('../../migration/plan-file.js');
  const { connectServices, closeServices } = await import('../../migration/connect.js');
  const { prepareVms } = await import('../../migration/prepare.js');
  const { planWorkflow } = await import('../../engine/plan.js');
  const { silentLogger } = await import('../../engine/logger.js');
  const { vmwareWindowsToOpenstack } = await import('../../../workflows/vmware-windows-to-openstack.js');
  const plan = loadPlanFile(file);
  const log = silentLogger();
  const services = await connectServices({
    source: plan.source,
    target: plan.target,
    env: process.env,
    log,
    stateDir: stateDirOf(globalOptions(cmd)),
  });
  try {
    const vms = await prepareVms(plan, services, { vm: o.vm, env: process.env });
    const views = [];
    for (const v of vms) {
      const wf = await planWorkflow(vmwareWindowsToOpenstack, v.params, { log, services });
      views.push({ vm: v.config.name, ready: v.plan.ready && !wf.blocked, plan: v.plan, steps: wf.steps });
    }
    const ready = views.every((v) => v.ready);
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ file, ready, vms: views }, null, 2)}\n`);
    } else {
      for (const v of views) process.stdout.write(`${renderVmPlan(v.plan, v.steps)}\n\n`);
      process.stdout.write(
        ready
          ? `ready: ${views.length} VM(s); run \`v2o migrate ${file}\`\n`
          : `blocked: fix the blockers above, then run \`v2o plan ${file}\` again\n`,
      );
    }
    return ready ? ExitCode.ok : ExitCode.badInput;
  } finally {
    await closeServices(services);
  }
}

export const planCommand: CommandModule = {
  register(program: Command) {
    addWorkflowOptions(
      program
        .command('plan')
        .description('show what `migrate` would do, per VM and step (read-only; writes no run)')
        .argument('[plan-file]', 'the migration plan (YAML; `v2o init` writes an example)'),
    )
      .option('--json', 'print the plan as JSON')
      .option('--vm <name>', 'only this VM of the plan')
      .addHelpText(
        'after',
        `\nExamples:\n  v2o plan plan.yaml\n  v2o plan plan.yaml --vm win2019-app01 --json\n  v2o plan --workflow example      # a built-in demo workflow, no plan file\n${exitCodesHelp([0, 2])}`,
      )
      .action(async (file: string | undefined, o: PlanOptions, cmd: Command) => {
        if (file) {
          process.exitCode = await planFromFile(file, o, cmd);
          return;
        }
        const { planWorkflow } = await import('../../engine/plan.js');
        const { silentLogger } = await import('../../engine/logger.js');
        const { workflow, params } = await chooseWorkflow(o);
        const plan = await planWorkflow(workflow, params, { log: silentLogger() });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
        } else {
          process.stdout.write(`${plan.workflow} v${plan.version}\n`);
          for (const [i, s] of plan.steps.entries()) {
            process.stdout.write(`  ${i + 1}. ${s.id}: ${s.plan.skip ? '(skip) ' : ''}${s.plan.summary}\n`);
            for (const w of s.plan.warnings ?? []) process.stdout.write(`       warning: ${w}\n`);
            for (const b of s.plan.blockers ?? []) process.stdout.write(`       BLOCKED: ${b}\n`);
          }
          if (plan.blocked) process.stdout.write('the plan is blocked; fix the blockers above\n');
        }
        process.exitCode = plan.blocked ? ExitCode.badInput : ExitCode.ok;
      });
  },
};
