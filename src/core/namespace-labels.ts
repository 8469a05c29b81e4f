/**
 * `macpool opt-in|opt-out`: the namespace labels that make kubemacpool allocate
 * MACs in a namespace or leave it alone, in the mode each webhook uses. Refused
 * (OptRefusal) before the namespace is touched when the mode cannot be known.
 */
import type { MacpoolKind, MacpoolStatus, OptDirection } from '../domain/macpool.js';
import type { KubeApi } from '../kube/api.js';
import type { DryRun } from '../kube/edit.js';
import type { LabelEditResult } from '../kube/macpool.js';

export interface NamespaceLabelOptions {
  namespace: string;
  direction: OptDirection;
  /** The webhooks to label for (both unless --vms or --pods). */
  kinds: MacpoolKind[];
  /** --mode: the mode to assume when the webhook configuration cannot be read. */
  mode?: 'opt-in' | 'opt-out';
  dryRun: DryRun;
}

export interface NamespaceLabelResult {
  edit: LabelEditResult;
  /** kubemacpool's decision for the namespace after the edit. */
  status: MacpoolStatus;
}

export async function setMacpoolLabels(options: NamespaceLabelOptions, deps: { client: KubeApi }): Promise<NamespaceLabelResult> {
  const [{ readMacpool, editNamespaceLabels }, domain] = await Promise.all([import('../kube/macpool.js'), import('../domain/macpool.js')]);
  const view = await readMacpool(deps.client);
  // Refuse before touching the namespace when the mode cannot be known.
  domain.resolveOptModes(view, options.kinds, options.mode);
  const edit = await editNamespaceLabels(deps.client, options.namespace, (ns) => domain.planOptLabels(view, ns, options.direction, options.kinds, options.mode), { dryRun: options.dryRun });
  const status = domain.buildMacpoolStatus(view, [edit.after]);
  if (view.installed === null) {
    // The mode came from --mode: show the decision made under it, not "unknown".
    const { plan, after } = edit;
    status.namespaces = [
      {
        name: options.namespace,
        labels: domain.relevantLabels(view, after.metadata.labels ?? {}),
        vms: plan.result.vms ?? status.namespaces[0].vms,
        pods: plan.result.pods ?? status.namespaces[0].pods,
      },
    ];
  }
  return { edit, status };
}
