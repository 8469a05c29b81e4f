/** The API resources kubectl-vnet reads or writes, and their REST paths. */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const Resources = {
  vm: { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachines', kind: 'VirtualMachine', namespaced: true },
  vmi: { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances', kind: 'VirtualMachineInstance', namespaced: true },
  migration: { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstancemigrations', kind: 'VirtualMachineInstanceMigration', namespaced: true },
  kubevirt: { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts', kind: 'KubeVirt', namespaced: true },
  nad: { group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions', kind: 'NetworkAttachmentDefinition', namespaced: true },
  subnet: { group: 'kubeovn.io', version: 'v1', plural: 'subnets', kind: 'Subnet', namespaced: false },
  pod: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  event: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  namespace: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  configmap: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  deployment: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  daemonset: { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  mutatingWebhook: { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false },
} as const satisfies Record<string, ResourceType>;

export function resourcePath(r: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let p = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.plural}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

/** Recovers resource, namespace and verb from a request, for RBAC hints. */
export function describeRequest(method: string, pathname: string, watch = false): { verb: string; resource: string; namespace?: string; name?: string } {
  const parts = pathname.split('/').filter(Boolean);
  let i = parts[0] === 'api' ? 2 : 3;
  const group = parts[0] === 'api' ? '' : parts[1];
  let namespace: string | undefined;
  if (parts[i] === 'namespaces' && parts.length > i + 2) {
    namespace = decodeURIComponent(parts[i + 1]);
    i += 2;
  }
  const plural = parts[i] ?? '';
  const name = parts[i + 1] ? decodeURIComponent(parts[i + 1]) : undefined;
  const sub = parts[i + 2];
  const m = method.toUpperCase();
  let verb = m === 'GET' ? (name ? 'get' : watch ? 'watch' : 'list') : m === 'POST' ? 'create' : m === 'PUT' ? 'update' : m === 'PATCH' ? 'patch' : m === 'DELETE' ? 'delete' : m.toLowerCase();
  if (plural === 'namespaces' && !name && m === 'GET') verb = watch ? 'watch' : 'list';
  const resource = (group ? `${plural}.${group}` : plural) + (sub ? `/${sub}` : '');
  return { verb, resource, namespace, name };
}
