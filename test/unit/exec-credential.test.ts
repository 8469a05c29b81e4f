// Exec credential plugins, run for real: each plugin here is this Node with a small script.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExecCredential, type ExecConfig, type ExecIO } from '../../src/kube/exec-credential.js';

const V1 = 'client.authentication.k8s.io/v1';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vnet-exec-'));

/** A plugin that runs `body` (JavaScript) in Node (args: the script file). */
function plugin(body: string, extra: Partial<ExecConfig> = {}): ExecConfig {
  const file = path.join(dir, `plugin-${Math.random().toString(36).slice(2)}.js`);
  fs.writeFileSync(file, body);
  return { apiVersion: V1, command: process.execPath, args: [file], interactiveMode: 'Never', ...extra };
}

const credential = (status: Record<string, unknown>, apiVersion = V1) => `process.stdout.write(JSON.stringify(${JSON.stringify({ apiVersion, kind: 'ExecCredential', status })}))`;

function io(over: Partial<ExecIO> = {}): ExecIO & { written: string[] } {
  const written: string[] = [];
  return { stdinIsTTY: false, stderr: { write: (c: string | Buffer) => written.push(String(c)) }, env: { PATH: process.env.PATH }, written, ...over };
}

describe('runExecCredential', () => {
  it('runs the command with its args and env, tells it KUBERNETES_EXEC_INFO, and takes the token', async () => {
    const seen = path.join(dir, 'seen-1.json');
    const p = plugin(
      `require('fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ argv: process.argv.slice(2), info: JSON.parse(process.env.KUBERNETES_EXEC_INFO), region: process.env.REGION }));\n${credential({ token: 'tok-123' })}`,
      { env: [{ name: 'REGION', value: 'eu-1' }] },
    );
    p.args = [...(p.args ?? []), '--cluster', 'c1']; // the script, then the plugin's own arguments
    expect(await runExecCredential(p, { server: 'https://k:6443' }, io())).toEqual({ token: 'tok-123' });
    const got = JSON.parse(fs.readFileSync(seen, 'utf8'));
    expect(got.argv).toEqual(['--cluster', 'c1']);
    expect(got.region).toBe('eu-1');
    expect(got.info).toEqual({ apiVersion: V1, kind: 'ExecCredential', spec: { interactive: false } });
  });

  it('with provideClusterInfo it passes the cluster: server and the CA data (read from the file when only a path is given)', async () => {
    const seen = path.join(dir, 'seen-2.json');
    const ca = path.join(dir, 'ca.crt');
    fs.writeFileSync(ca, 'PEM BYTES');
    const p = plugin(`require('fs').writeFileSync(${JSON.stringify(seen)}, process.env.KUBERNETES_EXEC_INFO);\n${credential({ token: 't' })}`, { provideClusterInfo: true });
    await runExecCredential(p, { server: 'https://k:6443', 'certificate-authority': ca, 'tls-server-name': 'api', 'proxy-url': 'socks5://127.0.0.1:1080' }, io());
    expect(JSON.parse(fs.readFileSync(seen, 'utf8')).spec.cluster).toEqual({ server: 'https://k:6443', 'tls-server-name': 'api', 'proxy-url': 'socks5://127.0.0.1:1080', 'certificate-authority-data': Buffer.from('PEM BYTES').toString('base64') });
  });

  it('takes a client certificate and key', async () => {
    const r = await runExecCredential(plugin(credential({ clientCertificateData: 'CERT PEM', clientKeyData: 'KEY PEM' })), { server: 's' }, io());
    expect(r).toEqual({ cert: Buffer.from('CERT PEM'), key: Buffer.from('KEY PEM') });
  });

  it.each([
    ['a failure, with what it said on stderr', `process.stderr.write('token expired\\nrun: login\\n'); process.exit(3)`, /failed \(exit 3\): token expired; run: login$/],
    ['a failure without a message', `process.exit(1)`, /^the exec credential plugin \S+ failed without a message$/],
    ['a plugin killed by a signal', `process.kill(process.pid, 'SIGTERM')`, /^the exec credential plugin \S+ was stopped by SIGTERM$/],
    ['output that is not JSON', `process.stdout.write('hello')`, /did not print an ExecCredential \(its output is not JSON\)/],
    ['an ExecCredential of another apiVersion', credential({ token: 't' }, 'client.authentication.k8s.io/v1beta1'), /did not print an ExecCredential of client.authentication.k8s.io\/v1 with a status/],
    ['neither token nor certificate', credential({ expirationTimestamp: '2030-01-01T00:00:00Z' }), /printed neither a token nor a client certificate/],
    ['a certificate without its key', credential({ clientCertificateData: 'CERT' }), /clientCertificateData without clientKeyData/],
  ])('refuses %s', async (_what, body, message) => {
    await expect(runExecCredential(plugin(body), { server: 's' }, io())).rejects.toThrow(message);
  });

  it('names a command that is not installed, with the installHint', async () => {
    const p = { apiVersion: V1, command: 'vnet-no-such-credential-plugin', interactiveMode: 'Never', installHint: 'install it with: brew install thing\n' };
    await expect(runExecCredential(p, { server: 's' }, io())).rejects.toThrow('the exec credential plugin vnet-no-such-credential-plugin was not found; install it with: brew install thing');
  });

  it('checks the kubeconfig entry: a command, a known apiVersion, a valid interactiveMode', async () => {
    await expect(runExecCredential({ apiVersion: V1, interactiveMode: 'Never' }, { server: 's' }, io())).rejects.toThrow('names no command');
    await expect(runExecCredential({ command: 'x', apiVersion: 'client.authentication.k8s.io/v1alpha1', interactiveMode: 'Never' }, { server: 's' }, io())).rejects.toThrow(/apiVersion "client.authentication.k8s.io\/v1alpha1"/);
    await expect(runExecCredential({ command: 'x', apiVersion: V1 }, { server: 's' }, io())).rejects.toThrow(/no interactiveMode: it must be Never, IfAvailable or Always/);
  });

  it('interactive only on a terminal: Always without one is refused; IfAvailable on one hands over stderr as it comes', async () => {
    await expect(runExecCredential(plugin(credential({ token: 't' }), { interactiveMode: 'Always' }), { server: 's' }, io())).rejects.toThrow(/needs a terminal/);
    const seen = path.join(dir, 'seen-3.json');
    const body = `require('fs').writeFileSync(${JSON.stringify(seen)}, process.env.KUBERNETES_EXEC_INFO); process.stderr.write('open https://login.example/device and enter ABCD\\n');\n${credential({ token: 't' })}`;
    const tty = io({ stdinIsTTY: true });
    expect(await runExecCredential(plugin(body, { interactiveMode: 'IfAvailable' }), { server: 's' }, tty)).toEqual({ token: 't' });
    expect(JSON.parse(fs.readFileSync(seen, 'utf8')).spec.interactive).toBe(true);
    expect(tty.written.join('')).toBe('open https://login.example/device and enter ABCD\n');
    // v1beta1 has no required interactiveMode: IfAvailable.
    const beta = plugin(credential({ token: 'b' }, 'client.authentication.k8s.io/v1beta1'), { apiVersion: 'client.authentication.k8s.io/v1beta1', interactiveMode: undefined });
    expect(await runExecCredential(beta, { server: 's' }, io())).toEqual({ token: 'b' });
  });
});
