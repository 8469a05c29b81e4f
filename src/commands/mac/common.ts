import { Flags } from '@oclif/core';
import { refused } from '../../errors.js';

/** --via netconf|spec, shared by set and unset. */
export const viaFlag = Flags.option({
  description: 'netconf: the netconf hook sidecar annotations in the VM template; spec: interfaces[].macAddress in the VM template',
  options: ['netconf', 'spec'] as const,
  default: 'netconf',
})();

/** The refusal for a VirtualMachineInstance that has no VirtualMachine. */
export function standaloneVMIRefusal(name: string, namespace: string, via: 'netconf' | 'spec') {
  return via === 'netconf'
    ? refused(
        `"${name}" in namespace "${namespace}" is a VirtualMachineInstance without a VirtualMachine; hook sidecar annotations are read only when a VMI is created, so changing them on a running VMI does nothing`,
        'put the netconf annotations in the VMI manifest and create it anew, or run it through a VirtualMachine and use this command on that',
      )
    : refused(
        `"${name}" in namespace "${namespace}" is a VirtualMachineInstance without a VirtualMachine; a VMI's spec cannot change while it runs`,
        'set interfaces[].macAddress in the VMI manifest and create it anew, or run it through a VirtualMachine and use this command on that',
      );
}
