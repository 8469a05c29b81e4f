import { Flags } from '@oclif/core';

/** The kubectl connection flags every cluster command takes. */
export const connectionFlags = {
  kubeconfig: Flags.string({ description: 'Path to the kubeconfig file to use', helpGroup: 'CLUSTER' }),
  context: Flags.string({ description: 'The name of the kubeconfig context to use', helpGroup: 'CLUSTER' }),
  cluster: Flags.string({ description: 'The name of the kubeconfig cluster to use', helpGroup: 'CLUSTER' }),
  user: Flags.string({ description: 'The name of the kubeconfig user to use', helpGroup: 'CLUSTER' }),
  namespace: Flags.string({ char: 'n', description: 'The namespace (default: the context\'s, else "default")', helpGroup: 'CLUSTER' }),
  as: Flags.string({ description: 'Username to impersonate for the operation', helpGroup: 'CLUSTER' }),
  'as-group': Flags.string({ description: 'Group to impersonate, can be repeated', multiple: true, helpGroup: 'CLUSTER' }),
  'as-uid': Flags.string({ description: 'UID to impersonate for the operation', helpGroup: 'CLUSTER' }),
  'request-timeout': Flags.string({ description: 'How long to wait for one server request (e.g. 30s, 1m); 0 waits forever', default: '0', helpGroup: 'CLUSTER' }),
  ...overrideFlags(),
};

/** kubectl's connection overrides: they win over the kubeconfig's cluster and user entries. */
function overrideFlags() {
  const group = 'CLUSTER';
  return {
    server: Flags.string({ char: 's', description: 'The address and port of the Kubernetes API server', helpGroup: group }),
    'certificate-authority': Flags.string({ description: 'Path to a cert file for the certificate authority', helpGroup: group }),
    'tls-server-name': Flags.string({ description: 'Server name to use for server certificate validation', helpGroup: group }),
    'insecure-skip-tls-verify': Flags.boolean({ description: 'Do not check the server certificate (insecure)', helpGroup: group }),
    token: Flags.string({ description: 'Bearer token for authentication to the API server', helpGroup: group }),
    'client-certificate': Flags.string({ description: 'Path to a client certificate file for TLS', helpGroup: group }),
    'client-key': Flags.string({ description: 'Path to a client key file for TLS', helpGroup: group }),
    username: Flags.string({ description: 'Username for basic authentication to the API server', helpGroup: group }),
    password: Flags.string({ description: 'Password for basic authentication to the API server', helpGroup: group }),
    'cache-dir': Flags.string({ description: 'Accepted as kubectl accepts it (this tool keeps no discovery cache)', helpGroup: group }),
  };
}

export const debugFlag = {
  debug: Flags.boolean({ description: 'Print each API request and the stack of errors to stderr (never credentials)', default: false, helpGroup: 'GLOBAL' }),
};

export function outputFlag<const T extends readonly string[]>(formats: T, def: T[number]) {
  return Flags.option({ char: 'o', description: `Output format: ${formats.join('|')}`, options: formats, default: def })();
}

export const dryRunFlag = Flags.option({
  description: 'none: send the change; client: print what would be sent, send nothing; server: send it with dryRun=All',
  options: ['none', 'client', 'server'] as const,
  default: 'none',
})();

/** -o for the commands that edit a VM (hotplug, link, mac): absent means one line saying what changed. */
export const editOutputFlag = Flags.option({
  char: 'o',
  description: 'Output format: yaml|json (the resulting VM) or name (virtualmachine.kubevirt.io/NAME patched); without -o, one line saying what changed',
  options: ['yaml', 'json', 'name'] as const,
})();

export const allNamespacesFlag = Flags.boolean({ char: 'A', description: 'Across all namespaces', default: false });
