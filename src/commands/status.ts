import { Args, Flags } from '@oclif/core';
import { ClusterCommand } from '../cli/base.js';
import { fileReadFlags, wantsFileMode } from '../cli/file-mode.js';
import { allNamespacesFlag, outputFlag } from '../cli/flags.js';
import { usageError, VnetError } from '../errors.js';
import type { Paint } from '../render/output.js';
import type { InterfaceStatus, VMNetworkStatus, VMNetworkStatusList } from '../domain/status.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeVirtCR, Pod } from '../domain/types.js';
import { compareStrings } from '../domain/order.js';

export interface StatusOptions {
  namespace: string | undefined; // undefined: all namespaces
  target?: { kind: 'vm' | 'vmi'; name: string };
  selector?: string;
}

/** "NAME", "vm/NAME", "vmi/NAME" (and kubectl's long names). */
export function parseTarget(arg: string): { kind: 'vm' | 'vmi'; name: string } {
  const i = arg.indexOf('/');
  if (i < 0) return { kind: 'vm', name: arg };
  const type = arg.slice(0, i).toLowerCase();
  const name = arg.slice(i + 1);
  if (!name) throw usageError(`"${arg}" names no object`, 'use NAME, vm/NAME or vmi/NAME');
  if (['vm', 'vms', 'virtualmachine', 'virtualmachines'].includes(type)) return { kind: 'vm', name };
  if (['vmi', 'vmis', 'virtualmachineinstance', 'virtualmachineinstances'].includes(type)) return { kind: 'vmi', name };
  throw usageError(`unknown type "${type}" in "${arg}"`, 'use NAME, vm/NAME or vmi/NAME');
}

export default class Status extends ClusterCommand {
  static override summary = 'Per-interface network status of VMs, joined from the VM, its VMI and the launcher pod\'s Multus status';
  static override description =
    'STATE is one of: stopped, pending, attaching, ready, unplugging, detached, guest-only, stale. ' +
    'Warnings (MAC mismatch, RestartRequired, MigrationRequired, missing Sidecar gate, malformed annotations) go to stderr, or into "warnings" with -o json|yaml.';
  static override examples = [
    '<%= config.bin %> status myvm',
    '<%= config.bin %> status -o wide',
    '<%= config.bin %> status -A -l app=web -o json',
    '<%= config.bin %> status vmi/standalone',
  ];
  static override args = { target: Args.string({ description: 'VM name (or vm/NAME, vmi/NAME for a standalone VMI); all VMs of the namespace when omitted' }) };
  static override flags = {
    output: outputFlag(['table', 'wide', 'json', 'yaml'], 'table'),
    'all-namespaces': allNamespacesFlag,
    selector: Flags.string({ char: 'l', description: 'Label selector on VM labels (e.g. app=web,tier!=db)' }),
    ...fileReadFlags,
  };

  async run(): Promise<void> {
    if (wantsFileMode(this.argv)) return (await import('../cli/file-mode.js')).runFileStatus(Status, this.argv);
    const { args, flags } = await this.parse(Status);
    if (args.target && flags['all-namespaces']) throw usageError('a VM name cannot be combined with -A', 'use -n NAMESPACE NAME');
    if (args.target && flags.selector) throw usageError('a VM name cannot be combined with -l/--selector');
    const target = args.target ? parseTarget(args.target) : undefined;
    const { conn, client } = await this.connect(flags);
    const opts: StatusOptions = { namespace: flags['all-namespaces'] ? undefined : conn.namespace, target, selector: flags.selector };
    const result = await readStatus(client, opts, conn.namespace);
    const format = flags.output;
    if (format === 'json' || format === 'yaml') {
      const { formatDocument } = await import('../render/output.js');
      this.out(formatDocument(result, format));
      return;
    }
    const items = result.kind === 'List' ? result.items : [result];
    if (items.length === 0) {
      this.note(opts.namespace ? `No resources found in ${opts.namespace} namespace.` : 'No resources found');
      return;
    }
    const { headers, rows } = statusTable(items, { wide: format === 'wide', showNamespace: !opts.namespace, paint: this.paint(format) });
    this.out((await import('../render/table.js')).renderTable(headers, rows));
    const seen = new Set<string>();
    for (const it of items) {
      for (const w of it.warnings) {
        // A permission warning is the same for every VM: say it once.
        const line = w.code === 'pods-forbidden' ? w.message : `${w.object ?? `${it.namespace}/${it.name}`}: ${w.message}`;
        if (seen.has(line)) continue;
        seen.add(line);
        this.warnLine(line);
      }
    }
  }
}

/**
 * Promise.all for reads sent together, but when several fail the error is
 * the first in argument order (VMs before VMIs before pods), not whichever
 * answer came back first: the message does not depend on timing.
 */
async function allInOrder<const T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/** Reads what the join needs: one list per kind for a namespace or -A; a get of the VM and VMI plus one pod list for one VM. */
export async function readStatus(client: KubeClient, opts: StatusOptions, contextNamespace: string): Promise<VMNetworkStatus | VMNetworkStatusList> {
  const [stores, status, { impersonationArgs }] = await Promise.all([import('../kube/stores.js'), import('../domain/status.js'), import('../kube/client.js')]);
  const readKubeVirtCR = () => stores.readKubeVirt(client).then((kv) => (kv.state === 'installed' ? kv.cr : null));
  const podsOrReason = async (p: Promise<Pod[]>, ns: string | undefined): Promise<{ pods: Pod[]; unreadable?: string }> => {
    try {
      return { pods: await p };
    } catch (err) {
      if (err instanceof VnetError && err.code === 'forbidden') {
        const where = ns ? `in namespace "${ns}"` : 'across all namespaces';
        return {
          pods: [],
          unreadable: `cannot list pods ${where} (forbidden), so the launcher pod and the multus fields are empty; check with: kubectl auth can-i list pods${ns ? ` -n ${ns}` : ' -A'}${impersonationArgs(client.conn)}`,
        };
      }
      throw err;
    }
  };

  if (opts.target) {
    const ns = opts.namespace as string;
    const { kind, name } = opts.target;
    const [vm, vmi] = await allInOrder([kind === 'vm' ? stores.getVMOrNull(client, ns, name) : Promise.resolve(null), stores.getVMI(client, ns, name)]);
    if (!vm && !vmi) {
      throw new VnetError('notFound', `${kind === 'vm' ? 'virtualmachine' : 'virtualmachineinstance'} "${name}" not found in namespace "${ns}"`, {
        hint: 'check the name and the namespace (-n); list them with: kubectl vnet status' + (kind === 'vm' ? '; a standalone VMI is vmi/NAME' : ''),
      });
    }
    // The KubeVirt CR matters only for hook annotations: read it then, beside the pods.
    const [{ pods, unreadable }, kubevirt] = await Promise.all([
      vmi ? podsOrReason(stores.listLauncherPodsOfVMI(client, vmi), ns) : Promise.resolve({ pods: [] as Pod[], unreadable: undefined }),
      status.needsKubeVirtCR(vm, vmi) ? readKubeVirtCR() : Promise.resolve(null),
    ]);
    return status.joinVMNetworkStatus({ vm, vmi, pods, kubevirt: kubevirt as KubeVirtCR | null, podsUnreadable: unreadable });
  }

  const ns = opts.namespace;
  let vms, vmis, podsRead, kubevirt;
  try {
    [vms, vmis, podsRead, kubevirt] = await allInOrder([
      stores.listVMs(client, ns, opts.selector, { project: status.projectVMForStatus }),
      stores.listVMIs(client, ns, undefined, { project: status.projectVMIForStatus }),
      podsOrReason(stores.listLauncherPods(client, ns, undefined, { project: status.projectPodForStatus }), ns),
      readKubeVirtCR(),
    ]);
  } catch (err) {
    if (err instanceof VnetError && err.code === 'forbidden' && !ns) {
      throw new VnetError('forbidden', `you may not list VMs across all namespaces (-A): ${err.message.replace(/^forbidden: /, '')}`, {
        hint: `use -n NAMESPACE for a namespace you can read (e.g. -n ${contextNamespace}); check with: kubectl auth can-i list virtualmachines.kubevirt.io -A${impersonationArgs(client.conn)}`,
        reason: err.reason,
        status: err.status,
      });
    }
    throw err;
  }
  const items = status.joinAll({ vms, vmis, pods: podsRead.pods, kubevirt, podsUnreadable: podsRead.unreadable, includeStandalone: !opts.selector });
  items.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
  return { kind: 'List', items };
}

const NONE = '<none>';

function stateCell(state: InterfaceStatus['state'], paint: Paint): string {
  switch (state) {
    case 'ready':
      return paint('green', state);
    case 'stale':
      return paint('red', state);
    case 'pending':
    case 'attaching':
    case 'unplugging':
      return paint('yellow', state);
    default:
      return state;
  }
}

/** Table headers and rows: one row per interface; a VM without interfaces gets one row. */
export function statusTable(items: readonly VMNetworkStatus[], o: { wide: boolean; showNamespace: boolean; paint?: Paint }): { headers: string[]; rows: string[][] } {
  const paint: Paint = o.paint ?? ((_s, t) => t);
  const headers = [...(o.showNamespace ? ['NAMESPACE'] : []), 'VM', 'INTERFACE', 'BINDING', 'NETWORK', 'STATE', 'LINK', 'MAC', 'IPS', 'GUEST-IFACE'];
  if (o.wide) headers.push('POD-IFACE', 'DESIRED-MAC', 'INFO-SOURCE', 'MODEL', 'MULTUS-MAC', 'MULTUS-IPS');
  const rows: string[][] = [];
  const v = (s: string | null | undefined) => (s ? s : NONE);
  const list = (a: readonly string[] | undefined) => (a && a.length > 0 ? a.join(',') : NONE);
  for (const it of items) {
    const lead = o.showNamespace ? [it.namespace, it.name] : [it.name];
    if (it.interfaces.length === 0) {
      const row = [...lead, NONE, NONE, NONE, it.running ? NONE : 'stopped', NONE, NONE, NONE, NONE];
      if (o.wide) row.push(NONE, NONE, NONE, NONE, NONE, NONE);
      rows.push(row);
      continue;
    }
    for (const i of it.interfaces) {
      const row = [...lead, v(i.name), v(i.binding), v(i.network), stateCell(i.state, paint), v(i.linkState), v(i.mac), list(i.ips), v(i.guestInterface)];
      if (o.wide) {
        row.push(
          v(i.podInterface),
          i.desiredMac ? `${i.desiredMac} (${i.desiredMacSource})` : NONE,
          list(i.infoSource),
          v(i.model),
          v(i.multus?.mac),
          list(i.multus?.ips),
        );
      }
      rows.push(row);
    }
  }
  return { headers, rows };
}
