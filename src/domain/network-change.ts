/**
 * Planning `network set`: moving one interface of a VM to another
 * NetworkAttachmentDefinition by changing its network's multus.networkName.
 *
 * On a running VM KubeVirt (v1.8 with LiveUpdateNADRef, v1.9+) copies the new
 * name into the VMI and marks the VMI MigrationRequired; the workload updater's
 * live migration moves it to a launcher pod attached to the new NAD. The
 * dynamic networks controller takes no part. Elsewhere the change waits for a
 * restart (RestartRequired). Refusals are the cases KubeVirt would refuse, or
 * that would leave the NIC without a working network.
 */
import { refused, usageError } from '../errors.js';
import type { ClusterFacts } from './hotplug.js';
import { kubevirtForAdvice, kubevirtVersion, liveMigrateEnabled, nadChangeSupport, vmRolloutStrategy } from './kubevirt-config.js';
import { bridgeBindingProblem, checkKubeOvnNad, isKubeOvnNad, mainCniType } from './nad.js';
import { pointer, type EditPlan, type JsonPatchOp } from './patch.js';
import type { VirtualMachine, VMISpecLike, Warning } from './types.js';
import { bindingOf, hasImplicitDefaultNetwork, interfacesOf, networksOf, specShapeProblem, splitNadName } from './vmspec.js';

export interface NetworkChangeRequest {
  /** The interface (and network) name. */
  iface: string;
  /** "[ns/]nad" as the user wrote it. */
  network: string;
}

export type NetworkChangePlan = EditPlan & {
  interfaceName: string;
  nad: { namespace: string; name: string };
  /** The migration the VMI showed when planned (its migrationUid): --wait waits for a later one. */
  priorMigration?: string;
};

/** "[ns/]name" resolved in the VM's namespace; a usage error when it is not a NAD name. */
export function parseNadArgument(network: string, vmNamespace: string): { namespace: string; name: string } {
  const ref = splitNadName(network.trim(), vmNamespace);
  if (!ref.name || ref.name.includes('/') || !ref.namespace) throw usageError(`"${network}" is not a NetworkAttachmentDefinition name`, 'write it as NAME or NAMESPACE/NAME');
  return ref;
}

/** The LiveMigratable condition of the VMI when it says False, with its reason. */
function notMigratable(facts: ClusterFacts): string | undefined {
  const c = facts.vmi?.status?.conditions?.find((x) => x.type === 'LiveMigratable');
  if (!c || c.status !== 'False') return undefined;
  return [c.reason, c.message].filter(Boolean).join(': ') || 'LiveMigratable=False';
}

/** What a running VM needs for the change to happen live; each missing piece is a warning that it waits for a restart. */
function liveAdvice(facts: ClusterFacts, notes: string[], warn: (code: string, message: string) => void): void {
  const cr = kubevirtForAdvice(facts, 'version, feature gate and workload update', notes, warn);
  if (!cr) return;
  const running = Boolean(facts.vmi);
  const support = nadChangeSupport(cr);
  if (support.live === false) {
    if (running) warn('nad-change-restart', `${support.reason}: KubeVirt sets RestartRequired and the VM gets the new network when it restarts`);
    return;
  }
  if (!running) return;
  const rs = vmRolloutStrategy(cr);
  if (rs.value !== 'LiveUpdate') warn('rollout-not-liveupdate', `the KubeVirt rollout strategy is ${rs.value}${rs.explicit ? '' : ' (unset; the default before v1.6)'}, not LiveUpdate: the VM gets the new network only after a restart (RestartRequired)`);
  if (!liveMigrateEnabled(cr)) {
    warn('no-live-migrate', 'a NAD change is carried by a live migration, but the KubeVirt CR\'s workloadUpdateStrategy.workloadUpdateMethods lacks LiveMigrate: nothing migrates the VM, so the change waits for a restart');
  }
  const why = notMigratable(facts);
  if (why) warn('not-migratable', `the VMI cannot live-migrate (${why}): the change waits for a restart`);
}

/** Plans `network set VM IFACE [NS/]NAD`: one guarded replace of networks[i].multus.networkName. */
export function planNetworkChange(vm: VirtualMachine, req: NetworkChangeRequest, facts: ClusterFacts = {}): NetworkChangePlan {
  const spec: VMISpecLike | undefined = vm.spec?.template?.spec;
  const problem = specShapeProblem(spec);
  if (problem) throw refused(`virtualmachine "${vm.metadata.name}": ${problem}; nothing was changed`, 'fix the VM spec first');
  const ns = vm.metadata.namespace ?? 'default';
  const object = `${ns}/${vm.metadata.name}`;
  const warnings: Warning[] = [];
  const notes: string[] = [];
  const warn = (code: string, message: string) => warnings.push({ code, message, object });
  const nadRef = parseNadArgument(req.network, ns);
  const nadFull = `${nadRef.namespace}/${nadRef.name}`;
  const name = req.iface;

  const ifaces = interfacesOf(spec);
  const iface = ifaces.find((i) => i.name === name);
  const netIndex = networksOf(spec).findIndex((n) => n.name === name);
  const net = netIndex >= 0 ? networksOf(spec)[netIndex] : undefined;
  if (!iface) {
    const names = ifaces.map((i) => i.name);
    if (name === 'default' && hasImplicitDefaultNetwork(spec)) throw refused('"default" is the VM\'s implicit pod network: it cannot be moved to a NAD', 'only interfaces on secondary Multus networks can change network');
    throw refused(`virtualmachine "${vm.metadata.name}" has no interface "${name}"${names.length > 0 ? ` (it has: ${names.join(', ')})` : ''}`, `check the name: kubectl vnet status ${vm.metadata.name}`);
  }
  if (!net) throw refused(`interface "${name}" of virtualmachine "${vm.metadata.name}" has no network of the same name`, 'fix the VM spec first (every interface needs a network of its name)');
  if (net.pod !== undefined) {
    throw refused(`interface "${name}" is on the pod network: KubeVirt moves only secondary Multus networks to another NAD`, `to give the VM a NIC on ${nadFull}, hot-plug one (kubectl vnet hotplug add)`);
  }
  if (!net.multus?.networkName) throw refused(`interface "${name}" is not on a Multus network (its network has no multus.networkName)`, 'only interfaces on secondary Multus networks can change network');
  if (net.multus.default) {
    throw refused(`interface "${name}" is on the Multus default network (multus.default: true): KubeVirt does not move the primary network to another NAD`, 'change it in the VM spec and restart the VM');
  }
  if (iface.state === 'absent') throw refused(`interface "${name}" is being unplugged (state: absent)`, 'a NIC that is being removed cannot change network');

  const current = splitNadName(net.multus.networkName, ns);
  if (current.namespace === nadRef.namespace && current.name === nadRef.name) {
    return { ops: [], summary: `interface ${name} is already on ${nadFull}`, warnings, notes: [], noop: true, interfaceName: name, nad: nadRef };
  }

  // The new NAD: it must exist, and suit the interface's binding.
  const binding = bindingOf(iface);
  const nad = facts.nad;
  if (nad === null) throw refused(`NetworkAttachmentDefinition "${nadRef.name}" not found in namespace "${nadRef.namespace}"`, `create it first, or check the name: kubectl get network-attachment-definitions -n ${nadRef.namespace}`);
  if (nad === undefined) {
    notes.push(`NetworkAttachmentDefinition ${nadFull} not checked (${facts.nadUnreadable ?? 'no cluster'}): existence, CNI type and Subnet checks skipped`);
  } else {
    const main = mainCniType(nad);
    if (binding === 'bridge') {
      const p = bridgeBindingProblem(nad);
      if (p) throw refused(`NetworkAttachmentDefinition ${nadFull}: ${p}`, `pick a bridge or OVS NAD for interface "${name}" (bridge binding)`);
    }
    if (binding === 'sriov' && main !== undefined && main !== 'sriov') {
      throw refused(`NetworkAttachmentDefinition ${nadFull} runs CNI type ${main}, not sriov: interface "${name}" uses SR-IOV binding and needs an SR-IOV network`, 'pick an SR-IOV NAD for an SR-IOV interface');
    }
    if (binding !== 'sriov' && main === 'sriov') {
      throw refused(`NetworkAttachmentDefinition ${nadFull} is an SR-IOV network, and interface "${name}" uses ${binding || 'no'} binding: only an SR-IOV interface can use it`, `pick a NAD of the interface's kind, or hot-plug an SR-IOV interface on ${nadFull} (kubectl vnet hotplug add)`);
    }
    if (isKubeOvnNad(nad)) {
      if (facts.subnets === undefined) notes.push(`Kube-OVN Subnets not checked${facts.subnetsUnreadable ? ` (${facts.subnetsUnreadable})` : ''}`);
      else {
        const k = checkKubeOvnNad(nad, facts.subnets, vm.spec?.template?.metadata?.annotations);
        if (k.problem) throw refused(`NetworkAttachmentDefinition ${nadFull}: ${k.problem}`, k.fix ?? 'create the Subnet first');
        if (k.warning) warn('kube-ovn-subnet', `NetworkAttachmentDefinition ${nadFull}: ${k.warning}`);
      }
    }
  }

  liveAdvice(facts, notes, warn);
  if (facts.vmi === null) notes.push('the VM is not running: the interface gets the new network at its next start');
  else if (facts.vmi === undefined) notes.push('the VMI was not checked: whether the VM runs is not known');
  else if (nadChangeSupport(facts.kubevirt).live === true) {
    notes.push(`KubeVirt moves the NIC by a live migration to a pod attached to ${nadFull} (the dynamic networks controller does not change a NIC's NAD); the guest keeps its MAC, and its address follows the new network`);
  }
  if (facts.kubevirt && kubevirtVersion(facts.kubevirt) === null) notes.push('the KubeVirt version is not known yet: whether the change happens live is not known');

  const ops: JsonPatchOp[] = [
    { op: 'test', path: pointer('spec', 'template', 'spec', 'domain', 'devices', 'interfaces', ifaces.indexOf(iface)), value: iface },
    { op: 'test', path: pointer('spec', 'template', 'spec', 'networks', netIndex), value: net },
    { op: 'replace', path: pointer('spec', 'template', 'spec', 'networks', netIndex, 'multus', 'networkName'), value: req.network.trim() },
  ];
  const from = `${current.namespace}/${current.name}`;
  const prior = facts.vmi?.status?.migrationState?.migrationUid;
  return { ops, summary: `move interface ${name} from ${from} to ${nadFull}`, warnings, notes, interfaceName: name, nad: nadRef, priorMigration: typeof prior === 'string' ? prior : undefined };
}
