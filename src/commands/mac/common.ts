import { Flags } from '@oclif/core';

/** --via netconf|spec, shared by set and unset. */
export const viaFlag = Flags.option({
  description: 'netconf: the netconf hook sidecar annotations in the VM template; spec: interfaces[].macAddress in the VM template',
  options: ['netconf', 'spec'] as const,
  default: 'netconf',
})();
