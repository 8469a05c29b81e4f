// One builder of VirtualMachines (and their VMIs) for the tests: a VM with the pod network
// (masquerade) and, when asked, secondary bridge interfaces on Multus networks. For the sandbox,
// give `memory` (KubeVirt's admission wants a VMI to request memory) and `resourceVersion: null`.
import { expect } from 'vitest';
import { VnetError } from '../../src/errors.js';
import type { VirtualMachine, VirtualMachineInstance } from '../../src/domain/types.js';

export interface TestVMOptions {
  name?: string;
  namespace?: string;
  /** Secondary bridge interfaces: interface name -> NAD reference (networkName). */
  bridges?: Record<string, string>;
  /** The template's spec as given, instead of the one built from `bridges` (malformed lists, say). */
  templateSpec?: Record<string, unknown>;
  /** Annotations of the VM template (netconf, hook sidecars). */
  templateAnnotations?: Record<string, string>;
  /** The template's metadata as given (labels and annotations), instead of templateAnnotations. */
  templateMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  runStrategy?: string;
  /** The memory the template requests (resources.requests.memory), e.g. '128Mi'. */
  memory?: string;
  /** null: none (an object never read from a server). */
  resourceVersion?: string | null;
}

export function testVM(opts: TestVMOptions = {}): VirtualMachine {
  const bridges = Object.entries(opts.bridges ?? {});
  const spec = opts.templateSpec ?? {
    domain: {
      devices: { interfaces: [{ name: 'default', masquerade: {} }, ...bridges.map(([name]) => ({ name, bridge: {} }))] },
      ...(opts.memory ? { resources: { requests: { memory: opts.memory } } } : {}),
    },
    networks: [{ name: 'default', pod: {} }, ...bridges.map(([name, nad]) => ({ name, multus: { networkName: nad } }))],
  };
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name: opts.name ?? 'vm1', namespace: opts.namespace ?? 'ns1', ...(opts.resourceVersion === null ? {} : { resourceVersion: opts.resourceVersion ?? '10' }) },
    spec: {
      runStrategy: opts.runStrategy ?? 'Always',
      template: {
        ...(opts.templateMetadata ? { metadata: structuredClone(opts.templateMetadata) } : opts.templateAnnotations ? { metadata: { annotations: { ...opts.templateAnnotations } } } : {}),
        spec: spec as VirtualMachine['spec']['template']['spec'],
      },
    },
  };
}

/** The running VMI of a VM: its template's spec, phase Running, the given status interfaces. */
export function testVMI(vm: VirtualMachine, status: Partial<NonNullable<VirtualMachineInstance['status']>> = {}): VirtualMachineInstance {
  return {
    metadata: { name: vm.metadata.name, namespace: vm.metadata.namespace, uid: 'u1' },
    spec: structuredClone(vm.spec.template.spec),
    status: { phase: 'Running', interfaces: [], ...status },
  };
}

/** The VnetError fn throws (the test fails when it throws nothing, or something else). */
export function refusalOf(fn: () => unknown): VnetError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(VnetError);
    return err as VnetError;
  }
  throw new Error('expected a refusal');
}
