/**
 * kubectl's connection overrides (its generic options --server, --token,
 * --certificate-authority, ...): applied to the cluster and user entries the
 * kubeconfig gives, the way clientcmd applies them. With --server no
 * kubeconfig is needed at all.
 */
import path from 'node:path';
import { usageError } from '../errors.js';
import type { RawCluster, RawUser } from './kubeconfig.js';

/** The override flags, as parsed. */
export interface ConnectionOverrides {
  server?: string;
  token?: string;
  'certificate-authority'?: string;
  'client-certificate'?: string;
  'client-key'?: string;
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  username?: string;
  password?: string;
  /** Accepted as kubectl accepts it; this tool keeps no discovery cache. */
  'cache-dir'?: string;
}

/** The flags to name in messages, in kubectl's order. */
const CLUSTER_KEYS = ['server', 'certificate-authority', 'tls-server-name', 'insecure-skip-tls-verify'] as const;
const USER_KEYS = ['token', 'client-certificate', 'client-key', 'username', 'password'] as const;

const given = (v: unknown) => v !== undefined && v !== '' && v !== false;

export function overridesServer(flags: ConnectionOverrides): boolean {
  return typeof flags.server === 'string' && flags.server !== '';
}

/** Refuses combinations kubectl refuses, before anything is read. */
export function checkOverrides(flags: ConnectionOverrides): void {
  if (flags.server !== undefined && flags.server.trim() === '')
    throw usageError('--server must not be empty', 'give the API server URL (https://HOST:PORT), or leave --server out to use the kubeconfig');
  if (flags['insecure-skip-tls-verify'] && given(flags['certificate-authority'])) {
    throw usageError('--certificate-authority and --insecure-skip-tls-verify cannot be used together: one checks the server certificate, the other turns the check off', 'keep one of them');
  }
  if (given(flags.password) && !given(flags.username)) throw usageError('--password needs --username', 'add --username USER, or use --token');
  if (given(flags['client-key']) !== given(flags['client-certificate'])) {
    throw usageError('--client-certificate and --client-key go together', 'give both files: the certificate and its private key');
  }
}

/** A URL kubectl would take for --server: a bare HOST[:PORT] means https. */
function serverURL(raw: string): string {
  const s = raw.trim();
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`;
}

const abs = (file: string) => path.resolve(file);

/** The cluster entry with the overrides applied (a new object; undefined stays undefined unless --server gives one). */
export function overrideCluster(cluster: RawCluster | undefined, flags: ConnectionOverrides): RawCluster | undefined {
  if (!CLUSTER_KEYS.some((k) => given(flags[k]))) return cluster;
  if (!cluster && !overridesServer(flags)) return cluster;
  const out: RawCluster = { ...cluster };
  if (overridesServer(flags)) out.server = serverURL(flags.server as string);
  if (given(flags['certificate-authority'])) {
    out['certificate-authority'] = abs(flags['certificate-authority'] as string);
    delete out['certificate-authority-data'];
    delete out['insecure-skip-tls-verify'];
  }
  if (flags['insecure-skip-tls-verify']) {
    // As in client-go: turning the check off drops the kubeconfig's CA (the two cannot go together).
    out['insecure-skip-tls-verify'] = true;
    delete out['certificate-authority'];
    delete out['certificate-authority-data'];
  }
  if (given(flags['tls-server-name'])) out['tls-server-name'] = flags['tls-server-name'];
  return out;
}

/**
 * The user entry with the overrides applied: a credential given on the command line
 * replaces the entry's credentials (a token its token file, exec plugin and auth provider).
 */
export function overrideUser(user: RawUser | undefined, flags: ConnectionOverrides): RawUser | undefined {
  if (!USER_KEYS.some((k) => given(flags[k]))) return user;
  const out: RawUser = { ...user };
  if (given(flags.token)) {
    out.token = flags.token;
    for (const k of ['tokenFile', 'exec', 'auth-provider'] as const) delete out[k];
  }
  if (given(flags['client-certificate'])) {
    out['client-certificate'] = abs(flags['client-certificate'] as string);
    out['client-key'] = abs(flags['client-key'] as string);
    delete out['client-certificate-data'];
    delete out['client-key-data'];
  }
  if (given(flags.username)) {
    out.username = flags.username;
    out.password = flags.password ?? '';
  }
  return out;
}
