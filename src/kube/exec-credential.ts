/**
 * Exec credential plugins (the kubeconfig user's `exec`), run the way
 * client-go runs them (k8s.io/client-go/plugin/pkg/client/auth/exec): the
 * command with its args, the environment plus the entry's `env` and
 * KUBERNETES_EXEC_INFO, an ExecCredential read from stdout, its token or
 * client certificate used for this invocation.
 *
 * Standard input is handed to the plugin only when it may interact
 * (interactiveMode IfAvailable or Always) and is a terminal; its standard
 * error then goes straight to ours, so a login prompt (a device code, a
 * browser hint) reaches the user as it does under kubectl. Otherwise its
 * standard error is kept for the error message.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { RawCluster } from './kubeconfig.js';

export interface ExecConfig {
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  apiVersion?: string;
  interactiveMode?: string;
  provideClusterInfo?: boolean;
  installHint?: string;
}

export interface ExecResult {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

const API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

/** An error whose message is the whole reason (the caller adds the context). */
export class ExecCredentialError extends Error {}

export interface ExecIO {
  stdinIsTTY: boolean;
  stderr: { write(chunk: string | Buffer): unknown };
  env: NodeJS.ProcessEnv;
}

function interactive(exec: ExecConfig, io: ExecIO): boolean {
  // v1 requires interactiveMode; v1beta1 defaults to IfAvailable.
  const mode = exec.interactiveMode || (exec.apiVersion === 'client.authentication.k8s.io/v1beta1' ? 'IfAvailable' : '');
  if (mode === 'Never') return false;
  if (mode === 'IfAvailable') return io.stdinIsTTY;
  if (mode === 'Always') {
    if (!io.stdinIsTTY) throw new ExecCredentialError(`the exec credential plugin ${exec.command} needs a terminal (interactiveMode: Always), and standard input is not one`);
    return true;
  }
  throw new ExecCredentialError(`the exec credential plugin ${exec.command} has ${mode ? `interactiveMode "${mode}"` : 'no interactiveMode'}: it must be Never, IfAvailable or Always`);
}

/** KUBERNETES_EXEC_INFO: what client-go tells the plugin (spec.interactive, and the cluster when asked for). */
function execInfo(exec: ExecConfig, cluster: RawCluster, isInteractive: boolean): string {
  const spec: Record<string, unknown> = { interactive: isInteractive };
  if (exec.provideClusterInfo) {
    // client-go sends the CA bytes, read from the file when the entry names one.
    const caFile = cluster['certificate-authority'];
    const caData = cluster['certificate-authority-data'] || (typeof caFile === 'string' && caFile ? readFileSync(caFile).toString('base64') : undefined);
    spec.cluster = {
      server: cluster.server,
      ...(cluster['tls-server-name'] ? { 'tls-server-name': cluster['tls-server-name'] } : {}),
      ...(cluster['proxy-url'] ? { 'proxy-url': cluster['proxy-url'] } : {}),
      ...(cluster['insecure-skip-tls-verify'] ? { 'insecure-skip-tls-verify': true } : {}),
      ...(caData ? { 'certificate-authority-data': caData } : {}),
      ...(cluster.extensions ? { config: (cluster.extensions as { name?: string; extension?: unknown }[]).find((e) => e?.name === 'client.authentication.k8s.io/exec')?.extension } : {}),
    };
  }
  return JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec });
}

export async function runExecCredential(exec: ExecConfig, cluster: RawCluster, io: ExecIO): Promise<ExecResult> {
  if (!exec.command || typeof exec.command !== 'string') throw new ExecCredentialError('the exec credential plugin of the user entry names no command');
  if (!exec.apiVersion || !API_VERSIONS.includes(exec.apiVersion)) {
    throw new ExecCredentialError(`the exec credential plugin ${exec.command} has apiVersion ${JSON.stringify(exec.apiVersion ?? '')}; it must be one of ${API_VERSIONS.join(', ')}`);
  }
  const isInteractive = interactive(exec, io);
  const env: NodeJS.ProcessEnv = { ...io.env };
  for (const e of exec.env ?? []) if (e && typeof e.name === 'string') env[e.name] = String(e.value ?? '');
  env.KUBERNETES_EXEC_INFO = execInfo(exec, cluster, isInteractive);

  const { code, signal, stdout, stderr } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(exec.command as string, Array.isArray(exec.args) ? exec.args.map(String) : [], { env, stdio: [isInteractive ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (isInteractive ? io.stderr.write(c) : err.push(c)));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new ExecCredentialError(`the exec credential plugin ${exec.command} was not found${exec.installHint ? `; ${exec.installHint.trim()}` : ' (is it installed and on PATH?)'}`));
      } else reject(new ExecCredentialError(`the exec credential plugin ${exec.command} could not be run: ${e.message}`));
    });
    child.on('close', (c, sig) => resolve({ code: c, signal: sig, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
  if (code !== 0) {
    const said = stderr.split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
    const how = signal ? `was stopped by ${signal}` : `failed (exit ${code})`;
    if (!said && !signal) throw new ExecCredentialError(`the exec credential plugin ${exec.command} failed without a message`);
    throw new ExecCredentialError(`the exec credential plugin ${exec.command} ${how}${said ? `: ${said}` : ''}`);
  }
  let cred: { apiVersion?: string; kind?: string; status?: { token?: unknown; clientCertificateData?: unknown; clientKeyData?: unknown } };
  try {
    cred = JSON.parse(stdout);
  } catch {
    throw new ExecCredentialError(`the exec credential plugin ${exec.command} did not print an ExecCredential (its output is not JSON)`);
  }
  if (cred?.kind !== 'ExecCredential' || cred.apiVersion !== exec.apiVersion || !cred.status || typeof cred.status !== 'object') {
    throw new ExecCredentialError(`the exec credential plugin ${exec.command} did not print an ExecCredential of ${exec.apiVersion} with a status`);
  }
  const { token, clientCertificateData: cert, clientKeyData: key } = cred.status;
  const result: ExecResult = {};
  if (typeof token === 'string' && token) result.token = token;
  if (typeof cert === 'string' && cert && typeof key === 'string' && key) {
    result.cert = Buffer.from(cert);
    result.key = Buffer.from(key);
  } else if (cert || key) {
    throw new ExecCredentialError(`the exec credential plugin ${exec.command} printed ${cert ? 'clientCertificateData without clientKeyData' : 'clientKeyData without clientCertificateData'}`);
  }
  if (!result.token && !result.cert) throw new ExecCredentialError(`the exec credential plugin ${exec.command} printed neither a token nor a client certificate`);
  return result;
}
