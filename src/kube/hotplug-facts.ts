/**
 * Gathers the cluster facts the hotplug, unplug and link planners check:
 * the VMI, the NAD, Kube-OVN Subnets when the NAD needs them, and the
 * KubeVirt CR. What cannot be read (RBAC, API not served) is left undefined
 * with the reason, so the planner skips that check and says so.
 */
import { VnetError } from '../errors.js';
import type { ClusterFacts } from '../domain/hotplug.js';
import { isKubeOvnNad, type KubeOvnSubnet } from '../domain/nad.js';
import type { NetworkAttachmentDefinition, VirtualMachineInstance } from '../domain/types.js';
import type { KubeApi } from './api.js';
import { gatherMacFacts } from './mac-facts.js';
import { readKubeVirt } from './kubevirt.js';
import { Resources, resourcePath } from './resources.js';

function unreadable(err: unknown): string | undefined {
  if (err instanceof VnetError && (err.code === 'forbidden' || err.code === 'notFound')) return err.message;
  return undefined;
}

/** The VMI of a VM, or null when it has none; undefined (with the reason) when it cannot be read. */
export async function readVMIFact(client: KubeApi, namespace: string, name: string): Promise<{ vmi?: VirtualMachineInstance | null; note?: string }> {
  try {
    return { vmi: await client.getOrNull<VirtualMachineInstance>(resourcePath(Resources.vmi, namespace, name)) };
  } catch (err) {
    if (err instanceof VnetError && err.code === 'forbidden') return { note: `cannot read the VMI: ${err.message}` };
    throw err;
  }
}

export async function gatherHotplugFacts(
  client: KubeApi,
  target: { namespace: string; name: string },
  want: { nad?: { namespace: string; name: string }; kubevirt?: boolean; macUses?: boolean },
): Promise<{ facts: ClusterFacts; notes: string[] }> {
  const notes: string[] = [];
  const facts: ClusterFacts = {};
  const [vmiRead, nad, kv, macs] = await Promise.all([
    readVMIFact(client, target.namespace, target.name),
    want.nad
      ? client.get<NetworkAttachmentDefinition>(resourcePath(Resources.nad, want.nad.namespace, want.nad.name)).then(
          (n) => n,
          (err: unknown) => {
            if (err instanceof VnetError && err.code === 'notFound') {
              // A 404 for the object itself (a Status with reason NotFound), or for the whole API
              // (Multus not installed: the server's plain "404 page not found", no reason).
              if (err.reason === 'NotFound') return null;
              throw new VnetError('precondition', `the NetworkAttachmentDefinition API (k8s.cni.cncf.io/v1) is not served by this cluster: ${err.message}`, {
                hint: 'install Multus (its CRD network-attachment-definitions.k8s.cni.cncf.io) before hot-plugging secondary networks',
              });
            }
            const why = unreadable(err);
            if (why) {
              facts.nadUnreadable = `cannot read it: ${why}`;
              return undefined;
            }
            throw err;
          },
        )
      : Promise.resolve(undefined),
    want.kubevirt === false ? Promise.resolve(undefined) : readKubeVirt(client),
    want.macUses ? gatherMacFacts(client, target, { uses: true, kubevirt: false, macpool: false }) : Promise.resolve(undefined),
  ]);
  if (macs) facts.macUses = macs.facts.uses;
  facts.vmi = vmiRead.vmi;
  if (vmiRead.note) notes.push(vmiRead.note);
  facts.nad = nad;
  if (kv) {
    if (kv.state === 'installed') facts.kubevirt = kv.cr;
    else if (kv.state === 'absent') facts.kubevirt = null;
    else facts.kubevirtUnreadable = kv.message;
  }
  if (nad && isKubeOvnNad(nad)) {
    try {
      facts.subnets = (await client.list<KubeOvnSubnet>(resourcePath(Resources.subnet))).items;
    } catch (err) {
      const why = unreadable(err);
      if (!why) throw err;
      facts.subnetsUnreadable = `cannot list subnets.kubeovn.io: ${why}`;
    }
  }
  return { facts, notes };
}
