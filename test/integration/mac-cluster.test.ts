// `kubectl vnet mac` checks that depend on cluster-wide objects: the KubeVirt
// CR's Sidecar feature gate and kubemacpool's webhook configuration and range.
// They run in a private sandbox (its own kube-apiserver and etcd, KubeVirt's
// virt-api and virt-controller), so the cluster-wide objects they change never
// reach other test files.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, eventually, runCli, sandbox, settledVM, writtenState } from '../support/cluster.js';
import { kubemacpoolMutator, VMS_WEBHOOK } from '../support/kubemacpool.js';
import { usePrivateSandbox } from '../support/private-sandbox.js';

const NETCONF = 'netconf.kubevirt.io/macAddress';
const IMAGE = 'registry:5000/kubevirt/netconf-hook-sidecar:latest';
const VMS_HOOK = VMS_WEBHOOK;

const sb = usePrivateSandbox('vnet-mac-sb-');

function kubectl(args: string[], kubeconfig = sb.kubeconfig): string {
  return execFileSync(sandbox().kubectl, ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });
}

function apply(obj: unknown): void {
  execFileSync(sandbox().kubectl, ['--kubeconfig', sb.kubeconfig, 'apply', '-f', '-'], { input: JSON.stringify(obj), encoding: 'utf8' });
}

async function namespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await adminApi(sb.kubeconfig).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  return name;
}

async function createVM(ns: string, name: string, ifaces: any[] = [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {} }]): Promise<void> {
  await adminApi(sb.kubeconfig).create({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: ns },
    spec: {
      runStrategy: 'Halted',
      template: {
        spec: {
          domain: { devices: { interfaces: ifaces }, resources: { requests: { memory: '128Mi' } } },
          networks: ifaces.map((i) => (i.name === 'default' ? { name: 'default', pod: {} } : { name: i.name, multus: { networkName: 'blue-net' } })),
        },
      },
    },
  } as any);
}

async function readVM(ns: string, name: string): Promise<any> {
  return adminApi(sb.kubeconfig).read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name, namespace: ns } });
}

const mac = (...args: string[]) => runCli(['mac', ...args], { kubeconfig: sb.kubeconfig, env: { KUBECTL_VNET_NETCONF_IMAGE: undefined } });

// The sandbox's own KubeVirt CR (kubevirt/kubevirt) is the one virt-api reads its feature gates from
// (KubeVirt allows one KubeVirt CR per cluster), so the gate is switched there: this file's sandbox is
// private, and the CLI's refusal is checked against what virt-api's admission really does.
const KV = ['kubevirt', '-n', 'kubevirt', 'kubevirt'];
const HOOKS = 'hooks.kubevirt.io/hookSidecars';

function setGates(gates: string[]): void {
  kubectl(['patch', ...KV, '--type=merge', '-p', JSON.stringify({ spec: { configuration: { developerConfiguration: { featureGates: gates } } } })]);
}

/** What virt-api's admission says (server-side dry run) to hook sidecars on this VM's template: null when it admits them. */
function admissionOfSidecars(ns: string, name: string): string | null {
  try {
    kubectl(['patch', 'vm', name, '-n', ns, '--dry-run=server', '--type=merge', '-p', JSON.stringify({ spec: { template: { metadata: { annotations: { [HOOKS]: `[{"image":"${IMAGE}"}]` } } } } })]);
    return null;
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
}

describe('the Sidecar feature gate', () => {
  let ns: string;
  let gates: string[];
  beforeAll(async () => {
    ns = await namespace('gate');
    gates = JSON.parse(kubectl(['get', ...KV, '-o', 'json'])).spec.configuration?.developerConfiguration?.featureGates ?? [];
    setGates(gates.filter((g) => g !== 'Sidecar'));
  });
  afterAll(() => {
    setGates(gates);
  });

  it('refuses --via netconf before sending when the gate is off (as admission would), allows --via spec, and proceeds once the gate is on', async () => {
    await createVM(ns, 'gated');
    const rv = writtenState(await settledVM(ns, 'gated', sb.kubeconfig));
    // what the CLI predicts is what virt-api does: it rejects hook sidecars while the gate is off
    await eventually(async () => admissionOfSidecars(ns, 'gated')?.includes('sidecar feature gate is not enabled'), 30_000, 'virt-api to see the Sidecar gate off');
    const r = await mac('set', 'gated', 'blue', '02:ab:00:00:00:08', '-n', ns, '--sidecar-image', IMAGE);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain('error: the Sidecar feature gate is not enabled in the KubeVirt CR, so admission would reject a VM with hook sidecars; nothing was sent');
    expect(r.stderr).toContain('spec.configuration.developerConfiguration.featureGates');
    expect(writtenState(await readVM(ns, 'gated'))).toEqual(rv);
    const spec = await mac('set', 'gated', 'blue', '02:ab:00:00:00:08', '--via', 'spec', '-n', ns);
    expect(spec.stderr).not.toContain('error');
    expect(spec.code, spec.stderr).toBe(0);
    setGates([...gates.filter((g) => g !== 'Sidecar'), 'Sidecar']);
    await eventually(async () => admissionOfSidecars(ns, 'gated') === null, 30_000, 'virt-api to see the Sidecar gate on');
    const ok = await mac('set', 'gated', 'blue', '02:ab:00:00:00:08', '-n', ns, '--sidecar-image', IMAGE);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse((await readVM(ns, 'gated')).spec.template.metadata.annotations[NETCONF])).toEqual([{ name: 'blue', macAddress: '02:ab:00:00:00:08' }]);
    setGates(gates.filter((g) => g !== 'Sidecar'));
  });

  it("checks the gate for a namespace editor too: KubeVirt's kubevirt.io:default role lets every user read the KubeVirt CR", async () => {
    await createVM('team-a', 'gate-editor');
    const rv = writtenState(await settledVM('team-a', 'gate-editor', sb.kubeconfig));
    await eventually(async () => admissionOfSidecars('team-a', 'gate-editor')?.includes('sidecar feature gate is not enabled'), 30_000, 'virt-api to see the Sidecar gate off');
    const r = await runCli(['mac', 'set', 'gate-editor', 'blue', '02:ab:00:00:02:00', '--sidecar-image', IMAGE], { kubeconfig: sb.editor });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain('error: the Sidecar feature gate is not enabled in the KubeVirt CR');
    expect(r.stderr).not.toContain('could not check the Sidecar feature gate');
    expect(writtenState(await readVM('team-a', 'gate-editor'))).toEqual(rv);
  });
});

// A user who cannot read the KubeVirt CR exists only where KubeVirt's kubevirt.io:default binding (to
// system:authenticated) was removed, which virt-operator would put back: hand-made RBAC, so a private
// bare sandbox (the API server with KubeVirt's CRDs and RBAC, nothing acting on them).
describe('the Sidecar feature gate, KubeVirt CR not readable (bare sandbox)', () => {
  const bare = usePrivateSandbox('vnet-mac-bare-', { kubevirt: false });
  beforeAll(async () => {
    const api = bare.api;
    // the bare sandbox has the kubevirt namespace, and no KubeVirt CR
    await api.create({ apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt', metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec: { configuration: { developerConfiguration: { featureGates: [] } } } } as any);
    await api.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'kubevirt.io:default' } });
    await eventually(async () => {
      const review = (await api.create({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'editor', groups: ['vnet:editors', 'system:authenticated'], resourceAttributes: { verb: 'list', group: 'kubevirt.io', resource: 'kubevirts' } } } as any)) as any;
      return review.status?.allowed === false;
    }, 20_000, 'RBAC to stop letting editor list kubevirts');
  }, 180_000);

  it('warns (and proceeds) when the KubeVirt CR is not readable', async () => {
    await adminApi(bare.kubeconfig).create({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachine',
      metadata: { name: 'gate-editor', namespace: 'team-a' },
      spec: {
        runStrategy: 'Halted',
        template: { spec: { domain: { devices: { interfaces: [{ name: 'blue', bridge: {} }] }, resources: { requests: { memory: '128Mi' } } }, networks: [{ name: 'blue', multus: { networkName: 'blue-net' } }] } },
      },
    } as any);
    const r = await runCli(['mac', 'set', 'gate-editor', 'blue', '02:ab:00:00:02:00', '--sidecar-image', IMAGE], { kubeconfig: bare.editor });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Warning: could not check the Sidecar feature gate (cannot list kubevirts.kubevirt.io');
    const vm = (await adminApi(bare.kubeconfig).read({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'gate-editor', namespace: 'team-a' } })) as any;
    expect(JSON.parse(vm.spec.template.metadata.annotations[NETCONF])).toEqual([{ name: 'blue', macAddress: '02:ab:00:00:02:00' }]);
  });
});

describe('kubemacpool', () => {
  let kmp: string;
  let managed: string;
  let ignored: string;
  beforeAll(async () => {
    kmp = await namespace('kubemacpool-system');
    managed = await namespace('kmp-managed');
    ignored = await namespace('kmp-ignored', { [VMS_HOOK]: 'ignore' });
    // kubemacpool's release layout, VMs in opt-out mode. No webhook server runs
    // here, so failurePolicy Ignore lets writes through.
    apply(kubemacpoolMutator(kmp, { vms: 'opt-out' }));
    apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubemacpool-mac-range-config', namespace: kmp }, data: { RANGE_START: '02:00:00:00:00:00', RANGE_END: '02:00:00:FF:FF:FF' } });
  });
  afterAll(() => {
    kubectl(['delete', 'mutatingwebhookconfiguration', 'kubemacpool-mutator', '--ignore-not-found']);
  });

  it('refuses a netconf MAC inside its range unless --force, and warns that kubemacpool does not see netconf MACs', async () => {
    await createVM(managed, 'vm1');
    const rv = writtenState(await settledVM(managed, 'vm1', sb.kubeconfig));
    const inRange = await mac('set', 'vm1', 'blue', '02:00:00:12:34:56', '-n', managed, '--sidecar-image', IMAGE);
    expect(inRange.code, inRange.stderr).toBe(5);
    expect(inRange.stderr).toContain("error: 02:00:00:12:34:56 is inside kubemacpool's range 02:00:00:00:00:00-02:00:00:ff:ff:ff; kubemacpool does not see netconf MACs and may hand it to another VM");
    expect(writtenState(await readVM(managed, 'vm1'))).toEqual(rv);
    const outside = await mac('set', 'vm1', 'blue', '02:ab:00:00:00:01', '-n', managed, '--sidecar-image', IMAGE);
    expect(outside.code, outside.stderr).toBe(0);
    expect(outside.stderr).toContain(`Warning: kubemacpool manages VMs in namespace "${managed}" but does not read netconf annotations`);
    const forced = await mac('set', '--via', 'netconf', 'vm1', 'blue', '02:00:00:12:34:56', '-n', managed, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain("is inside kubemacpool's range 02:00:00:00:00:00-02:00:00:ff:ff:ff (--force given)");
  });

  it('a spec MAC inside the range is fine (kubemacpool records it); clearing it says kubemacpool writes it back', async () => {
    await createVM(managed, 'vm2');
    const set = await mac('set', 'vm2', 'blue', '02:00:00:12:34:57', '--via', 'spec', '-n', managed);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toContain(`kubemacpool manages VMs in namespace "${managed}": it records 02:00:00:12:34:57 as this VM's`);
    const unset = await mac('unset', 'vm2', 'blue', '--via', 'spec', '-n', managed);
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.stderr).toContain('it writes the MAC it had allocated (02:00:00:12:34:57) back, so the MAC stays');
  });

  it('says nothing about kubemacpool in a namespace that opted out', async () => {
    await createVM(ignored, 'vm3', [{ name: 'blue', bridge: {}, macAddress: '02:00:00:12:34:58' }]);
    const set = await mac('set', 'vm3', 'blue', '02:00:00:12:34:59', '-n', ignored, '--sidecar-image', IMAGE);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).not.toContain('kubemacpool manages');
    const unset = await mac('unset', 'vm3', 'blue', '--via', 'spec', '-n', ignored);
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.stderr).not.toContain('kubemacpool manages');
  });
});
