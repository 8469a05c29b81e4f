/**
 * `networks`: the NetworkAttachmentDefinition inventory of a namespace (or all),
 * read with one list call per kind (NADs, VMs, VMIs, launcher pods, Kube-OVN
 * Subnets, namespaces) plus kubemacpool's webhook configuration, and built by
 * src/domain/networks.ts. Options in, a result out; no printing.
 */
import { VnetError } from '../errors.js';
import type { NadInventory, NadMacpool } from '../domain/networks.js';
import type { KubeOvnSubnet } from '../domain/nad.js';
import type { NetworkAttachmentDefinition, Pod } from '../domain/types.js';
import type { KubeApi } from '../kube/api.js';

export interface NetworksOptions {
  /** undefined: all namespaces. */
  namespace: string | undefined;
  /** One NAD by name (in `namespace`). */
  nad?: string;
}

/** The reason a read may fail without failing the command (forbidden; 404 when the API is not installed), else undefined. */
function unreadable(err: unknown, notInstalled?: string): string | undefined {
  if (!(err instanceof VnetError)) return undefined;
  if (err.code === 'forbidden') return err.message;
  if (err.code === 'notFound' && notInstalled) return notInstalled;
  return undefined;
}

export async function readNetworks(options: NetworksOptions, deps: { client: KubeApi }): Promise<NadInventory> {
  const [{ Resources, resourcePath }, stores, { buildNadInventory }, status, { readMacpool, readNamespaces }, { macpoolCoverage }] = await Promise.all([
    import('../kube/resources.js'),
    import('../kube/stores.js'),
    import('../domain/networks.js'),
    import('../domain/status.js'),
    import('../kube/macpool.js'),
    import('../domain/macpool.js'),
  ]);
  const { client } = deps;
  const ns = options.namespace;
  const notes: string[] = [];
  const softly = async <T>(p: Promise<T>, what: string, notInstalled?: string): Promise<T | null> => {
    try {
      return await p;
    } catch (err) {
      const why = unreadable(err, notInstalled);
      if (why === undefined) throw err;
      if (why) notes.push(`${what}: ${why}`);
      return null;
    }
  };
  const [nads, vms, vmis, pods, subnets, macpool, namespaces] = await Promise.all([
    client.list<NetworkAttachmentDefinition>(resourcePath(Resources.nad, ns)).then((l) => l.items),
    stores.listVMs(client, ns, undefined, { project: status.projectVMForStatus }),
    stores.listVMIs(client, ns, undefined, { project: status.projectVMIForStatus }),
    softly(stores.listLauncherPods(client, ns, undefined, { project: status.projectPodForStatus }), 'cannot list launcher pods, so no interface shows as attached'),
    // Kube-OVN is often not installed: a 404 only means no Subnet checks (said only for a Kube-OVN NAD, below).
    softly(
      client.list<KubeOvnSubnet>(resourcePath(Resources.subnet)).then((l) => l.items),
      'cannot list subnets.kubeovn.io, so Kube-OVN NADs are not checked',
      '',
    ),
    softly(readMacpool(client), 'cannot read kubemacpool'),
    softly(readNamespaces(client, ns === undefined ? { all: true } : { names: [ns] }), 'cannot read the namespaces, so kubemacpool coverage is not told'),
  ]).catch((err: unknown) => {
    if (err instanceof VnetError && err.code === 'notFound' && /network-attachment-definitions/.test(err.hint ?? '')) {
      throw new VnetError('notFound', 'the NetworkAttachmentDefinition API (k8s.cni.cncf.io/v1) is not installed: there are no NADs', {
        hint: 'install Multus (it brings the CRD), then create NADs',
        reason: err.reason,
        status: err.status,
      });
    }
    throw err;
  });
  const byName = new Map((namespaces ?? []).flatMap((n) => ('metadata' in n ? [[n.metadata.name, n] as const] : [])));
  const coverage = macpool
    ? (namespace: string): NadMacpool | null => {
        const n = byName.get(namespace);
        if (!n) return null;
        const c = macpoolCoverage(macpool, n);
        return { managed: c.managed, reason: c.reason };
      }
    : undefined;
  const inventory = buildNadInventory({ nads, vms, vmis, pods: (pods ?? []) as Pod[], subnets, macpool: coverage, namespace: ns, only: options.nad, notes });
  if (subnets === null && inventory.items.some((i) => i.cniTypes.includes('kube-ovn')) && !notes.some((n) => n.includes('subnets'))) {
    inventory.notes.push('subnets.kubeovn.io is not installed, so no Kube-OVN Subnet serves the Kube-OVN NADs');
  }
  if (options.nad && inventory.items.length === 0) {
    throw new VnetError('notFound', `networkattachmentdefinition "${options.nad}" not found in namespace "${ns}", and no VM there names it`, {
      hint: 'check the name and the namespace (-n); list them with: kubectl vnet networks',
    });
  }
  return inventory;
}
