// The foundation against a real API server: version --server, the error
// mapping (forbidden, unreachable, missing kubeconfig), flags, and the
// sandbox's own start/stop/reuse.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { loadConnection } from '../../src/kube/config.js';
import { KubeClient } from '../../src/kube/client.js';
import { Resources, resourcePath } from '../../src/kube/resources.js';
import { VnetError } from '../../src/errors.js';
import { freshNamespace, repoRoot, runCli, sandbox } from '../support/cluster.js';
// @ts-expect-error plain ESM script without types
import { down, kubevirtVersion, up } from '../../scripts/sandbox-lib.mjs';

function pids(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('version', () => {
  it('prints the client version without touching a cluster', async () => {
    const r = await runCli(['version'], { kubeconfig: '/nonexistent/kubeconfig' });
    expect(r.code).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(r.stdout).toBe(`Client Version: v${pkg.version}\n`);
  });

  it('--server reports the Kubernetes version and the KubeVirt version the sandbox runs, to every user', async () => {
    const sb = sandbox();
    const admin = await runCli(['version', '--server', '-o', 'json']);
    expect(admin.code).toBe(0);
    const report = JSON.parse(admin.stdout);
    expect(report.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+/);
    expect(report.kubevirt).toEqual({ state: 'installed', version: kubevirtVersion() });
    // KubeVirt's kubevirt.io:default role lets every authenticated user read the KubeVirt CR.
    const editor = await runCli(['version', '--server'], { kubeconfig: sb.editor });
    expect(editor.code).toBe(0);
    expect(editor.stdout).toContain(`KubeVirt Version: ${kubevirtVersion()}`);
  });
});

describe('error mapping', () => {
  it('a forbidden request keeps the server message and names the verb, resource and namespace that are missing', async () => {
    const ns = await freshNamespace('vnet-forbid');
    const conn = await loadConnection({ kubeconfig: sandbox().viewer, namespace: ns });
    const client = new KubeClient(conn);
    try {
      // viewer may list VMs (view) but not patch them.
      await client.list(resourcePath(Resources.vm, ns));
      const err = (await client.patch(resourcePath(Resources.vm, ns, 'vm1'), [{ op: 'test', path: '/metadata/name', value: 'vm1' }]).catch((e) => e)) as VnetError;
      expect(err).toBeInstanceOf(VnetError);
      expect(err.code).toBe('forbidden');
      expect(err.exitCode).toBe(4);
      expect(err.reason).toBe('Forbidden');
      expect(err.message).toContain('User "viewer" cannot patch resource "virtualmachines" in API group "kubevirt.io"');
      expect(err.hint).toBe(`you need permission to patch virtualmachines.kubevirt.io in namespace "${ns}"; check with: kubectl auth can-i patch virtualmachines.kubevirt.io -n ${ns}`);
      // A missing object maps to notFound with the server's message.
      const nf = (await client.get(resourcePath(Resources.vm, ns, 'nope')).catch((e) => e)) as VnetError;
      expect(nf.code).toBe('notFound');
      expect(nf.message).toContain('"nope" not found');
      expect(client.requestCount).toBe(3);
    } finally {
      client.close();
    }
  });

  it('a namespace-scoped user listing across namespaces gets a cluster-scope hint', async () => {
    const conn = await loadConnection({ kubeconfig: sandbox().editor });
    const client = new KubeClient(conn);
    try {
      const err = await client.list(resourcePath(Resources.vm)).catch((e) => e);
      expect(err.code).toBe('forbidden');
      expect(err.hint).toContain('list virtualmachines.kubevirt.io at cluster scope');
    } finally {
      client.close();
    }
  });

  it('with --as/--as-group the can-i line of a forbidden hint asks about the impersonated identity', async () => {
    const ns = await freshNamespace('vnet-forbid-as');
    const r = await runCli(['status', '-n', ns, '--as', 'jane doe', '--as-group', 'team-a', '--as-group', 'system:authenticated']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(
      `hint: you need permission to list virtualmachines.kubevirt.io in namespace "${ns}" (as jane doe); check with: kubectl auth can-i list virtualmachines.kubevirt.io -n ${ns} --as 'jane doe' --as-group team-a --as-group system:authenticated\n`,
    );
    // --as-uid is sent (the API server accepts it for an admin) and named in the can-i line, which kubectl runs as given.
    const uid = await runCli(['status', '-n', ns, '--as', 'jane', '--as-uid', 'u-1234']);
    expect(uid.code, uid.stderr).toBe(4);
    const canI = /check with: (kubectl auth can-i .*)$/m.exec(uid.stderr)![1];
    expect(canI).toBe(`kubectl auth can-i list virtualmachines.kubevirt.io -n ${ns} --as jane --as-uid u-1234`);
    const answer = spawnSync(sandbox().kubectl, ['--kubeconfig', sandbox().kubeconfig, ...canI.split(' ').slice(1)], { encoding: 'utf8' });
    expect(answer.stdout.trim()).toBe('no');
    // status -A's own hint too.
    const all = await runCli(['status', '-A', '--as', 'editor']);
    expect(all.code, all.stderr).toBe(4);
    expect(all.stderr).toMatch(/^hint: use -n NAMESPACE .*; check with: kubectl auth can-i list virtualmachines\.kubevirt\.io -A --as editor\n$/m);
  });

  it('an unreachable server is one clear line and exit 7, without a stack trace', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-unreach-'));
    const kc = path.join(dir, 'kubeconfig');
    const ca = fs.readFileSync(sandbox().kubeconfig, 'utf8').match(/certificate-authority-data: (\S+)/)?.[1];
    fs.writeFileSync(
      kc,
      `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: ${ca}\nusers:\n- name: u\n  user:\n    token: secret-token-never-printed\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n`,
    );
    const r = await runCli(['version', '--server'], { kubeconfig: kc });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: cannot reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)$/m);
    expect(r.stderr).toMatch(/^hint: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const dbg = await runCli(['version', '--server', '--debug'], { kubeconfig: kc });
    expect(dbg.code).toBe(7);
    expect(dbg.stderr).toMatch(/\n\s+at /); // --debug shows the stack
    expect(dbg.stderr).not.toContain('secret-token-never-printed');
  });

  it('TLS verification stays on: a server whose CA the kubeconfig lacks is refused (exit 7)', async () => {
    const doc = parse(fs.readFileSync(sandbox().kubeconfig, 'utf8'));
    delete doc.clusters[0].cluster['certificate-authority-data'];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-noca-'));
    fs.writeFileSync(path.join(dir, 'kubeconfig'), stringify(doc));
    const r = await runCli(['version', '--server'], { kubeconfig: path.join(dir, 'kubeconfig') });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^error: TLS verification of https:\/\/127\.0\.0\.1:\d+ failed \(/m);
    expect(r.stderr).toContain("hint: the kubeconfig needs the cluster's certificate-authority; verification stays on");
  });

  it('TLS verification stays on: only the CAs of the kubeconfig are trusted, in a bundle too', async () => {
    const doc = parse(fs.readFileSync(sandbox().kubeconfig, 'utf8'));
    const right = Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-cabundle-'));
    try {
      const withCA = (pem: string) => {
        doc.clusters[0].cluster['certificate-authority-data'] = Buffer.from(pem).toString('base64');
        fs.writeFileSync(path.join(dir, 'kubeconfig'), stringify(doc));
        return runCli(['version', '--server'], { kubeconfig: path.join(dir, 'kubeconfig') });
      };
      // Two public roots from Node's bundle: trusted by default elsewhere, not the sandbox's CA.
      const [wrongA, wrongB] = tls.rootCertificates;
      const refused = await withCA(`${wrongA}\n${wrongB}\n`);
      expect(refused.code).toBe(7);
      expect(refused.stderr).toMatch(/^error: TLS verification of https:\/\/127\.0\.0\.1:\d+ failed \(/m);
      // The right CA in the middle of a bundle is found.
      const ok = await withCA(`${wrongA}\n${right}\n${wrongB}\n`);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/Server Version: v1\.\d+/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('TLS verification stays on: a server name the certificate does not hold gets a hint about the address, not the CA', async () => {
    const doc = parse(fs.readFileSync(sandbox().kubeconfig, 'utf8'));
    doc.clusters[0].cluster.server = doc.clusters[0].cluster.server.replace('127.0.0.1', 'localhost');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-altname-'));
    fs.writeFileSync(path.join(dir, 'kubeconfig'), stringify(doc));
    try {
      const r = await runCli(['version', '--server'], { kubeconfig: path.join(dir, 'kubeconfig') });
      expect(r.code).toBe(7);
      expect(r.stderr).toMatch(/^error: TLS verification of https:\/\/localhost:\d+ failed \(ERR_TLS_CERT_ALTNAME_INVALID\)/m);
      expect(r.stderr).toMatch(/^hint: use a server address that the certificate names .*tls-server-name.*; verification stays on$/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing kubeconfig is one clear line and exit 7', async () => {
    const r = await runCli(['version', '--server', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(r.code).toBe(7);
    expect(r.stderr).toBe(
      'error: kubeconfig file /nonexistent/kubeconfig (from --kubeconfig) does not exist\nhint: give the path of an existing kubeconfig, or leave --kubeconfig out to use KUBECONFIG or ~/.kube/config\n',
    );
  });

  it('a bad flag value is a usage error (exit 2)', async () => {
    expect((await runCli(['version', '-o', 'xml'])).code).toBe(2);
    const r = await runCli(['version', '--server', '--request-timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid duration "soon" for --request-timeout');
    const g = await runCli(['version', '--server', '--as-group', 'g']);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain('--as-group needs --as');
  });

  it('--debug never prints the token, even on success', async () => {
    const sb = sandbox();
    const token = fs.readFileSync(sb.kubeconfig, 'utf8').match(/token: (\S+)/)?.[1] as string;
    expect(token.length).toBeGreaterThan(20);
    const r = await runCli(['version', '--server', '--debug']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('debug: GET /version 200');
    expect(r.stderr + r.stdout).not.toContain(token);
  });
});

describe('credentials', () => {
  it('an exec credential plugin in the kubeconfig keeps working, and its token is never printed', async () => {
    const sb = sandbox();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-exec-'));
    const admin = fs.readFileSync(sb.kubeconfig, 'utf8');
    const token = admin.match(/token: (\S+)/)?.[1] as string;
    const plugin = path.join(dir, 'credential-plugin.mjs');
    fs.writeFileSync(
      plugin,
      `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: ${JSON.stringify(token)} } }));\n`,
    );
    const doc = parse(admin);
    doc.users[0].user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [plugin], interactiveMode: 'Never' } };
    const kc = stringify(doc);
    expect(kc).not.toContain(token);
    fs.writeFileSync(path.join(dir, 'kubeconfig'), kc);
    const r = await runCli(['version', '--server', '--debug', '-o', 'json'], { kubeconfig: path.join(dir, 'kubeconfig') });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).serverVersion.gitVersion).toMatch(/^v1\./);
    // system:masters through the plugin's token: the KubeVirt list is allowed.
    expect(JSON.parse(r.stdout).kubevirt.state).not.toBe('unreadable');
    expect(r.stderr + r.stdout).not.toContain(token);
  });
});

describe('the sandbox itself', () => {
  it('starts, is reused when already running, reports KubeVirt once a CR exists, keeps its data unless fresh, and stops leaving no process', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-sb-'));
    const first = await up({ dir, kubevirt: false });
    try {
      expect(first.reused).toBe(false);
      const pidBefore = fs.readFileSync(path.join(dir, 'sandbox.pid'), 'utf8').trim();
      const again = await up({ dir, kubevirt: false });
      expect(again.reused).toBe(true);
      expect(fs.readFileSync(path.join(dir, 'sandbox.pid'), 'utf8').trim()).toBe(pidBefore);

      // Every CRD virt-operator installs (21), and Multus's and Kube-OVN's, is served.
      const crds = execFileSync(sandbox().kubectl, ['--kubeconfig', first.kubeconfig, 'get', 'crd', '-o', 'name'], { encoding: 'utf8' }).trim().split('\n').sort();
      expect(crds).toHaveLength(23);
      for (const name of ['kubevirts.kubevirt.io', 'virtualmachines.kubevirt.io', 'virtualmachineinstances.kubevirt.io', 'virtualmachineinstancemigrations.kubevirt.io', 'migrationpolicies.migrations.kubevirt.io', 'virtualmachinetemplates.template.kubevirt.io', 'network-attachment-definitions.k8s.cni.cncf.io', 'subnets.kubeovn.io']) {
        expect(crds).toContain(`customresourcedefinition.apiextensions.k8s.io/${name}`);
      }

      const none = await runCli(['version', '--server'], { kubeconfig: first.kubeconfig });
      expect(none.stdout).toContain('KubeVirt: not installed (no KubeVirt CR exists in the cluster)');

      const kc = new KubeConfig();
      kc.loadFromFile(first.kubeconfig);
      const api = KubernetesObjectApi.makeApiClient(kc);
      // The namespace holds KubeVirt's service accounts already (the bare sandbox has KubeVirt's RBAC too).
      await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubevirt' } });
      await api.create({ apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt', metadata: { name: 'kubevirt', namespace: 'kubevirt' }, spec: {} } as never);
      const deploying = await runCli(['version', '--server'], { kubeconfig: first.kubeconfig });
      expect(deploying.stdout).toContain('KubeVirt Version: unknown (the KubeVirt CR has no observed version yet');
      execFileSync(sandbox().kubectl, ['--kubeconfig', first.kubeconfig, 'patch', 'kubevirt', 'kubevirt', '-n', 'kubevirt', '--subresource=status', '--type=merge', '-p', '{"status":{"observedKubeVirtVersion":"v1.6.2","phase":"Deployed"}}']);
      const installed = await runCli(['version', '--server', '-o', 'yaml'], { kubeconfig: first.kubeconfig });
      expect(installed.stdout).toMatch(/kubevirt:\n\s+state: installed\n\s+version: v1\.6\.2/);

      // viewer has cluster-wide view, which KubeVirt's aggregated role extends to kubevirt.io.
      const viewer = await runCli(['version', '--server'], { kubeconfig: first.viewer });
      expect(viewer.stdout).toContain('KubeVirt Version: v1.6.2');

      // Stopped and started again, it keeps its data; started with `fresh`, it begins empty.
      await down({ dir });
      const restarted = await up({ dir, kubevirt: false });
      expect(restarted.reused).toBe(false);
      expect((await runCli(['version', '--server'], { kubeconfig: restarted.kubeconfig })).stdout).toContain('KubeVirt Version: v1.6.2');
      const running = await up({ dir, kubevirt: false, fresh: true });
      expect(running.reused).toBe(true);
      expect((await runCli(['version', '--server'], { kubeconfig: running.kubeconfig })).stdout).toContain('KubeVirt Version: v1.6.2');
      await down({ dir });
      const fresh = await up({ dir, kubevirt: false, fresh: true });
      expect(fresh.reused).toBe(false);
      expect((await runCli(['version', '--server'], { kubeconfig: fresh.kubeconfig })).stdout).toContain('KubeVirt: not installed (no KubeVirt CR exists in the cluster)');
    } finally {
      await down({ dir });
    }
    expect(fs.existsSync(path.join(dir, 'sandbox.pid'))).toBe(false);
    expect(pids(`vnet-sandbox-.*--dir ${dir}`)).toEqual([]);
  }, 240_000);
});

describe('namespaced reads', () => {
  it('uses the namespace of the context when -n is absent (editor: team-a)', async () => {
    const sb = sandbox();
    const r = await runCli(['version', '--server', '--debug'], { kubeconfig: sb.editor });
    expect(r.stderr).toContain('namespace team-a');
    const n = await runCli(['version', '--server', '--debug', '-n', 'other'], { kubeconfig: sb.editor });
    expect(n.stderr).toContain('namespace other');
  });
});
