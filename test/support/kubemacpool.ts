// kubemacpool's MutatingWebhookConfiguration as its release manifests lay it
// out, for the sandbox. No webhook server runs there, so every webhook has
// failurePolicy Ignore, a 1 s timeout and a service that does not exist:
// otherwise the API server would refuse every matching write.
export type KubemacpoolMode = 'opt-in' | 'opt-out';

export const VMS_WEBHOOK = 'mutatevirtualmachines.kubemacpool.io';
export const PODS_WEBHOOK = 'mutatepods.kubemacpool.io';

/** The namespaceSelector of one webhook in the given mode, with the run-level exclusions. */
export function kubemacpoolSelector(webhook: string, mode: KubemacpoolMode) {
  return {
    matchExpressions: [
      { key: 'runlevel', operator: 'NotIn', values: ['0', '1'] },
      { key: 'openshift.io/run-level', operator: 'NotIn', values: ['0', '1'] },
      mode === 'opt-in' ? { key: webhook, operator: 'In', values: ['allocate'] } : { key: webhook, operator: 'NotIn', values: ['ignore'] },
    ],
  };
}

/** `kubemacpool-mutator` with a webhook for each kind given a mode (pods first, as the release has them). */
export function kubemacpoolMutator(serviceNamespace: string, modes: { vms?: KubemacpoolMode; pods?: KubemacpoolMode }) {
  const hook = (name: string, path: string, mode: KubemacpoolMode, rules: unknown[]) => ({
    admissionReviewVersions: ['v1', 'v1beta1'],
    clientConfig: { service: { name: 'kubemacpool-service-does-not-exist', namespace: serviceNamespace, path } },
    failurePolicy: 'Ignore',
    timeoutSeconds: 1,
    name,
    namespaceSelector: kubemacpoolSelector(name, mode),
    rules,
    sideEffects: 'NoneOnDryRun',
  });
  const webhooks = [];
  if (modes.pods) webhooks.push(hook(PODS_WEBHOOK, '/mutate-pods', modes.pods, [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }]));
  if (modes.vms) webhooks.push(hook(VMS_WEBHOOK, '/mutate-virtualmachines', modes.vms, [{ apiGroups: ['kubevirt.io'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['virtualmachines'] }]));
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'kubemacpool-mutator' }, webhooks };
}
