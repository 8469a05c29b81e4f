import { VnetError } from '../errors.js';
import type { KubeApi } from './api.js';
import { Resources, resourcePath } from './resources.js';
import type { KubeVirtCR } from '../domain/types.js';

export type KubeVirtLookup =
  | { state: 'installed'; cr: KubeVirtCR; version?: string }
  | { state: 'absent'; message: string }
  | { state: 'unreadable'; message: string };

/**
 * Finds the KubeVirt CR (cluster-wide list; a cluster has at most one). A
 * missing CRD or an empty list means KubeVirt is not installed; a 403 means
 * this user cannot tell.
 */
export async function readKubeVirt(client: KubeApi): Promise<KubeVirtLookup> {
  try {
    const list = await client.list<KubeVirtCR>(resourcePath(Resources.kubevirt));
    const cr = list.items[0];
    if (!cr) return { state: 'absent', message: 'no KubeVirt CR exists in the cluster' };
    return { state: 'installed', cr, version: cr.status?.observedKubeVirtVersion || undefined };
  } catch (err) {
    if (err instanceof VnetError && err.code === 'notFound') return { state: 'absent', message: 'the kubevirt.io API is not served by this cluster' };
    if (err instanceof VnetError && err.code === 'forbidden') return { state: 'unreadable', message: `cannot list kubevirts.kubevirt.io: ${err.message}` };
    throw err;
  }
}
