import { Args, Flags } from '@oclif/core';
import { ClusterCommand } from '../../cli/base.js';
import { fileModeFlags, wantsFileMode } from '../../cli/file-mode.js';
import { dryRunFlag, editOutputFlag } from '../../cli/flags.js';
import { parseMac } from '../../domain/mac.js';
import { usageError } from '../../errors.js';
import { standaloneVMIRefusal, viaFlag } from './common.js';

export default class MacSet extends ClusterCommand {
  static override summary = 'Set the MAC address of a VM interface, through the netconf hook sidecar (default) or the VM spec';
  static override description =
    'The MAC is checked (unicast, 6 bytes, not reserved), checked against every MAC of the VMs and VMIs you can read, and against kubemacpool\'s range. ' +
    'It takes effect at the next start of the VM.';
  static override examples = [
    '<%= config.bin %> mac set vm1 blue 02:00:00:aa:bb:01 --sidecar-image registry.example/kubevirt/netconf-hook-sidecar:v1.9.0',
    '<%= config.bin %> mac set vm1 blue 02-00-00-AA-BB-01 --via spec',
    '<%= config.bin %> mac set vm1 blue 0200.00aa.bb01 --dry-run=client',
  ];
  static override args = {
    vm: Args.string({ description: 'VirtualMachine name', required: true }),
    iface: Args.string({ description: 'Interface name (spec.template.spec.domain.devices.interfaces[].name)', required: true }),
    mac: Args.string({ description: 'MAC address: aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff', required: true }),
  };
  static override flags = {
    via: viaFlag,
    'sidecar-image': Flags.string({ description: 'netconf sidecar image (default: $KUBECTL_VNET_NETCONF_IMAGE, else the image already on the VM)' }),
    force: Flags.boolean({ description: 'Set the MAC even when another interface uses it or it lies in kubemacpool\'s range', default: false }),
    'dry-run': dryRunFlag,
    output: editOutputFlag,
    ...fileModeFlags,
  };

  async run(): Promise<void> {
    if (wantsFileMode(this.argv)) return (await import('../../cli/file-edits.js')).macSetFile(MacSet, this.argv);
    const { args, flags } = await this.parse(MacSet);
    const mac = parseMac(args.mac);
    if (flags.via === 'spec' && flags['sidecar-image']) throw usageError('--sidecar-image applies to --via netconf only', 'drop --sidecar-image, or use --via netconf');
    const { NETCONF_IMAGE_ENV } = await import('../../domain/hooks.js');
    const env = process.env[NETCONF_IMAGE_ENV];
    const sidecarImage = flags['sidecar-image'] ? { image: flags['sidecar-image'], from: '--sidecar-image' } : env ? { image: env, from: NETCONF_IMAGE_ENV } : undefined;
    const { conn, client } = await this.connect(flags);
    const [{ gatherMacFacts }, { editVM }, { planMacSet }, { renderEditResult }] = await Promise.all([
      import('../../kube/mac-facts.js'),
      import('../../kube/edit.js'),
      import('../../domain/mac-plan.js'),
      import('../../cli/edit-output.js'),
    ]);
    const target = { namespace: conn.namespace, name: args.vm };
    const gathered = await gatherMacFacts(client, target, { uses: true, kubevirt: flags.via === 'netconf', macpool: true });
    if (!gathered.target.vm && gathered.target.vmi) throw standaloneVMIRefusal(args.vm, conn.namespace, flags.via);
    const opts = { iface: args.iface, mac, via: flags.via, sidecarImage, force: flags.force };
    const result = await editVM(client, target, (vm) => planMacSet(vm, opts, gathered.facts), { dryRun: flags['dry-run'] });
    const out = renderEditResult(result, flags.output ?? 'default');
    for (const line of out.stderr) this.note(line);
    this.out(out.stdout);
  }
}
