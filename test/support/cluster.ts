// Test helpers: an independent client (client-node's generic object API, not
// the code under test) to seed and read the sandbox, and a runner for the
// built CLI.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { inject } from 'vitest';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const cliPath = path.join(repoRoot, 'bin', 'kubectl-vnet.js');

let which: 'sandbox' | 'bare' = 'sandbox';

/**
 * Points this test file's helpers (sandbox(), adminApi(), runCli()...) at the bare sandbox: the API
 * server with the same CRDs and no KubeVirt, for objects that must stay as the test wrote them.
 */
export function useBareSandbox(): void {
  which = 'bare';
}

/** The sandbox this file uses: KubeVirt's (the default) or the bare one (useBareSandbox). */
export function sandbox() {
  return which === 'bare' ? { ...inject('bare'), kubectl: inject('sandbox').kubectl } : inject('sandbox');
}

export function adminApi(kubeconfig = sandbox().kubeconfig): KubernetesObjectApi {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return KubernetesObjectApi.makeApiClient(kc);
}

/** A fresh namespace per test file or test, so tests never see each other. */
export async function freshNamespace(prefix = 'vnet-test', labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await adminApi().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  return name;
}

/** Creates the object as admin (on the shared sandbox, or the one of `kubeconfig`). */
export async function create<T extends KubernetesObject>(obj: T, kubeconfig?: string): Promise<T> {
  return (await adminApi(kubeconfig).create(obj)) as T;
}

export async function read<T extends KubernetesObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string, kubeconfig?: string): Promise<T> {
  return (await adminApi(kubeconfig).read({ apiVersion, kind, metadata: { name, namespace } })) as T;
}

export async function readVM(namespace: string, name: string, kubeconfig?: string): Promise<any> {
  return read('kubevirt.io/v1', 'VirtualMachine', namespace, name, kubeconfig);
}

export async function readVMI(namespace: string, name: string, kubeconfig?: string): Promise<any> {
  return read('kubevirt.io/v1', 'VirtualMachineInstance', namespace, name, kubeconfig);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built kubectl-vnet as a user would, with the given kubeconfig. */
export function runCli(args: string[], opts: { kubeconfig?: string; env?: Record<string, string | undefined>; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...opts.env };
  if (opts.kubeconfig !== undefined) env.KUBECONFIG = opts.kubeconfig;
  else if (!('KUBECONFIG' in (opts.env ?? {}))) env.KUBECONFIG = sandbox().kubeconfig;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Polls fn until it returns a truthy value or the time runs out. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Binds the Role `role` of `namespace` to the user `user`. */
export function bindRole(namespace: string, role: string, user: string, kubeconfig?: string): Promise<KubernetesObject> {
  return create(
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: role, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    } as KubernetesObject,
    kubeconfig,
  );
}

/**
 * Waits until the API server's authorizer lets `user` do `verb` on `resource` (a new Role or binding
 * reaches the RBAC authorizer through its informers, which can lag on a loaded machine), so a test
 * that has just granted a right then sees the grant and nothing else.
 */
export async function untilAllowed(user: string, verb: string, resource: { group?: string; resource: string; namespace?: string; name?: string }, kubeconfig = sandbox().kubeconfig): Promise<void> {
  const api = adminApi(kubeconfig);
  await eventually(async () => {
    const review = (await api.create({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user, resourceAttributes: { verb, group: resource.group ?? '', resource: resource.resource, namespace: resource.namespace, name: resource.name } },
    } as KubernetesObject)) as { status?: { allowed?: boolean } };
    return review.status?.allowed === true;
  }, 20_000, `RBAC to let ${user} ${verb} ${resource.resource}${resource.namespace ? ` in ${resource.namespace}` : ''}`);
}

/**
 * What a write to a VM would change: its generation (bumped by every spec
 * change) and its spec, template annotations included. The simulator's
 * status updates change the resourceVersion but never this, so "nothing was
 * written" is asserted on it rather than on the resourceVersion.
 */
export function writtenState(vm: any): { generation: number; spec: unknown; annotations: unknown; labels: unknown } {
  return { generation: vm.metadata.generation, spec: vm.spec, annotations: vm.metadata.annotations ?? {}, labels: vm.metadata.labels ?? {} };
}

/**
 * The VM once KubeVirt's virt-controller has taken it in: its first writes to a new VM touch the
 * metadata (the kubevirt.io/latest-observed-api-version and storage-observed-api-version
 * annotations, then its finalizer), and only then the status (printableStatus, conditions). It
 * records no status.observedGeneration for a VM without a VMI (that field is the generation the
 * running VMI was made from), so "taken in" is those marks, not the generation. After this,
 * writtenState (generation, spec, annotations, labels) changes only when someone writes the VM:
 * virt-controller's later writes to a stopped VM are status only.
 */
export async function settledVM(namespace: string, name: string, kubeconfig = sandbox().kubeconfig): Promise<any> {
  const api = adminApi(kubeconfig);
  return eventually(async () => {
    const vm = (await api.read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name, namespace } })) as any;
    const seen =
      vm.metadata.annotations?.['kubevirt.io/latest-observed-api-version'] !== undefined &&
      (vm.metadata.finalizers ?? []).includes('kubevirt.io/virtualMachineControllerFinalize') &&
      typeof vm.status?.printableStatus === 'string';
    return seen ? vm : null;
  }, 20_000, `virt-controller to take in VM ${namespace}/${name}`);
}
