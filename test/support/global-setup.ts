// Starts the run's sandboxes, shared by every integration test file (tests
// isolate by namespace):
// - `sandbox`: a real kube-apiserver and etcd with KubeVirt's own virt-controller
//   and virt-api, and the node-side simulator (kubelet, Multus, virt-handler);
// - `bare`: a real kube-apiserver and etcd with the same CRDs and nothing acting
//   on them, for tests that need hand-made objects to stay as they were written
//   (a malformed annotation, a pod of an old KubeVirt, a VMI with a crafted status).
import path from 'node:path';
import type { TestProject } from 'vitest/node';
// @ts-expect-error plain ESM script without types
import { down, ensureKubectl, up } from '../../scripts/sandbox-lib.mjs';

export default async function setup(project: TestProject) {
  const dir = path.resolve(process.env.VNET_TEST_SANDBOX_DIR ?? '.cache/test-sandbox');
  const bareDir = `${dir}-bare`;
  const external = Boolean(process.env.VNET_TEST_KEEP_SANDBOX);
  // The run's own sandboxes begin empty, so no run sees what an earlier one left: ones still running from an
  // interrupted run are stopped first. With VNET_TEST_KEEP_SANDBOX running sandboxes are used as they are.
  if (!external) await Promise.all([down({ dir }), down({ dir: bareDir })]);
  const started = await Promise.allSettled([
    up({ dir, kubevirt: true, simulatorArgs: ['--step-ms', '300'], fresh: !external }),
    up({ dir: bareDir, kubevirt: false, fresh: !external }),
  ]);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    // Leave nothing running: the one that started is stopped too.
    if (!external) await Promise.all([down({ dir }), down({ dir: bareDir })]);
    throw failed.reason;
  }
  const [sb, bare] = started.map((r) => (r as PromiseFulfilledResult<{ dir: string; kubeconfig: string; viewer: string; editor: string }>).value);
  const users = (s: { dir: string; kubeconfig: string; viewer: string; editor: string }) => ({ dir: s.dir, kubeconfig: s.kubeconfig, viewer: s.viewer, editor: s.editor });
  project.provide('sandbox', { ...users(sb), kubectl: ensureKubectl() });
  project.provide('bare', users(bare));
  return async () => {
    if (!external) await Promise.all([down({ dir }), down({ dir: bareDir })]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: { dir: string; kubeconfig: string; viewer: string; editor: string; kubectl: string };
    bare: { dir: string; kubeconfig: string; viewer: string; editor: string };
  }
}
