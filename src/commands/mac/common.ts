import { Flags } from '@oclif/core';
import type { MacVia } from '../../domain/mac-plan.js';

/** --via spec|netconf, shared by set and unset; left out, it is spec (see resolveVia). */
export const viaFlag = Flags.option({
  description: 'spec (the default): interfaces[].macAddress in the VM template, seen by KubeVirt, the CNI and kubemacpool; netconf: the netconf hook sidecar annotations in the VM template (hook sidecars are deprecated from KubeVirt v1.9)',
  options: ['spec', 'netconf'] as const,
})();

/**
 * The way a MAC is set or removed: --via as given; else netconf when a
 * sidecar image is given (only that way uses one); else spec, which needs no
 * sidecar and no alpha feature gate. `defaulted` lets the planner refuse
 * rather than write the spec over a netconf MAC that would still win.
 */
export function resolveVia(via: MacVia | undefined, sidecarImage?: string): { via: MacVia; viaDefaulted: boolean } {
  if (via) return { via, viaDefaulted: false };
  if (sidecarImage) return { via: 'netconf', viaDefaulted: false };
  return { via: 'spec', viaDefaulted: true };
}
