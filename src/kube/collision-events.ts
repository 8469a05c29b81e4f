/**
 * kubemacpool's MACCollision events (v0.51 and later record one, type
 * Warning, on each VMI involved): one list call with a field selector, or
 * why they could not be read.
 */
import { VnetError } from '../errors.js';
import { MAC_COLLISION_REASON, type CollisionEvent } from '../domain/mac-list.js';
import type { KubeApi } from './api.js';
import { Resources, resourcePath } from './resources.js';

/** The MACCollision events of `namespace` (all namespaces when undefined), only those on the VMI `vmi` when given. */
export async function readCollisionEvents(client: KubeApi, namespace: string | undefined, vmi?: string): Promise<{ events: CollisionEvent[] } | { unreadable: string }> {
  const fieldSelector = [`reason=${MAC_COLLISION_REASON}`, ...(vmi ? [`involvedObject.name=${vmi}`] : [])].join(',');
  try {
    return { events: (await client.list<CollisionEvent>(resourcePath(Resources.event, namespace), { fieldSelector })).items };
  } catch (err) {
    if (err instanceof VnetError && err.code === 'forbidden') return { unreadable: err.message };
    throw err;
  }
}
