// The sandbox's demo world, made by `sandbox up` (with KubeVirt) so that the
// README's live quick start runs as written: namespace `lab`, three
// NetworkAttachmentDefinitions and a running VM `demo` with only the pod network.
//
//   blue-net     bridge CNI: hot-pluggable with the bridge binding
//   macvlan-net  macvlan CNI: refused under the bridge binding (KubeVirt cannot bridge it)
//   ovn-net      Kube-OVN, served by the Subnet `lab-ovn` (provider ovn-net.lab.ovn)
export const DEMO_NAMESPACE = 'lab';

const nad = (name, config) => [
  `/apis/k8s.cni.cncf.io/v1/namespaces/${DEMO_NAMESPACE}/network-attachment-definitions`,
  { apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name, namespace: DEMO_NAMESPACE }, spec: { config: JSON.stringify(config) } },
];

/** [collection path, object] pairs, in creation order. */
export function demoObjects() {
  return [
    ['/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEMO_NAMESPACE } }],
    nad('blue-net', { cniVersion: '0.3.1', name: 'blue-net', type: 'bridge', bridge: 'br-blue' }),
    nad('macvlan-net', { cniVersion: '0.3.1', name: 'macvlan-net', type: 'macvlan', master: 'eth0', mode: 'bridge' }),
    nad('ovn-net', { cniVersion: '0.3.1', name: 'ovn-net', type: 'kube-ovn', server_socket: '/run/openvswitch/kube-ovn-daemon.sock', provider: `ovn-net.${DEMO_NAMESPACE}.ovn` }),
    [
      '/apis/kubeovn.io/v1/subnets',
      { apiVersion: 'kubeovn.io/v1', kind: 'Subnet', metadata: { name: 'lab-ovn' }, spec: { protocol: 'IPv4', cidrBlock: '172.30.0.0/24', gateway: '172.30.0.1', provider: `ovn-net.${DEMO_NAMESPACE}.ovn` } },
    ],
    [
      `/apis/kubevirt.io/v1/namespaces/${DEMO_NAMESPACE}/virtualmachines`,
      {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachine',
        metadata: { name: 'demo', namespace: DEMO_NAMESPACE, labels: { app: 'demo' } },
        spec: {
          runStrategy: 'Always',
          template: {
            metadata: { labels: { app: 'demo' } },
            spec: {
              domain: { cpu: { cores: 1 }, memory: { guest: '1Gi' }, devices: { disks: [{ name: 'root', disk: { bus: 'virtio' } }], interfaces: [{ name: 'default', masquerade: {} }] } },
              networks: [{ name: 'default', pod: {} }],
              volumes: [{ name: 'root', containerDisk: { image: 'quay.io/containerdisks/fedora:41' } }],
            },
          },
        },
      },
    ],
  ];
}
