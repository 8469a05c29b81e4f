/**
 * Plain shapes of the objects kubectl-vnet reads, limited to the fields it
 * uses. Everything else an object carries is kept as is (index signatures),
 * so a VM read, edited and written back loses nothing.
 */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  [key: string]: unknown;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string | null;
  lastProbeTime?: string | null;
}

export type BindingName = 'bridge' | 'masquerade' | 'sriov' | 'slirp' | 'passt' | 'passtBinding' | 'macvtap' | 'binding';

/** spec.template.spec.domain.devices.interfaces[] */
export interface VMInterface {
  name: string;
  bridge?: Record<string, unknown>;
  masquerade?: Record<string, unknown>;
  sriov?: Record<string, unknown>;
  slirp?: Record<string, unknown>;
  passt?: Record<string, unknown>;
  /** The core passt binding of v1.8+ (PasstBinding gate); `passt` is the discontinued one. */
  passtBinding?: Record<string, unknown>;
  macvtap?: Record<string, unknown>;
  binding?: { name: string };
  macAddress?: string;
  model?: string;
  state?: '' | 'absent' | 'up' | 'down';
  [key: string]: unknown;
}

/** spec.template.spec.networks[] */
export interface VMNetwork {
  name: string;
  pod?: { vmNetworkCIDR?: string; vmIPv6NetworkCIDR?: string };
  multus?: { networkName: string; default?: boolean };
  /** A DRA network (v1.9 Alpha, SR-IOV): the pod's resource claim and the request in it. */
  resourceClaim?: { claimName?: string; requestName?: string };
  [key: string]: unknown;
}

export interface VMISpecLike {
  domain?: { devices?: { interfaces?: VMInterface[]; autoattachPodInterface?: boolean; [k: string]: unknown }; [k: string]: unknown };
  networks?: VMNetwork[];
  [key: string]: unknown;
}

export interface VirtualMachine {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: {
    running?: boolean;
    runStrategy?: string;
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown }; spec: VMISpecLike };
    [key: string]: unknown;
  };
  status?: { conditions?: Condition[]; printableStatus?: string; ready?: boolean; created?: boolean; [key: string]: unknown };
}

/** vmi.status.interfaces[] */
export interface VMIStatusInterface {
  name?: string;
  mac?: string;
  ipAddress?: string;
  ipAddresses?: string[];
  interfaceName?: string;
  infoSource?: string;
  queueCount?: number;
  podInterfaceName?: string;
  linkState?: string;
  [key: string]: unknown;
}

export interface VirtualMachineInstance {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: VMISpecLike;
  status?: {
    phase?: string;
    nodeName?: string;
    interfaces?: VMIStatusInterface[];
    conditions?: Condition[];
    migrationState?: { sourcePod?: string; targetPod?: string; targetNode?: string; completed?: boolean; failed?: boolean; startTimestamp?: string; endTimestamp?: string; [k: string]: unknown };
    activePods?: Record<string, string>;
    [key: string]: unknown;
  };
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: { nodeName?: string; [key: string]: unknown };
  status?: { phase?: string; [key: string]: unknown };
}

export interface NetworkAttachmentDefinition {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: { config?: string };
}

export interface KubeVirtCR {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: {
    configuration?: {
      developerConfiguration?: { featureGates?: string[]; [k: string]: unknown };
      vmRolloutStrategy?: string;
      network?: Record<string, unknown>;
      [k: string]: unknown;
    };
    workloadUpdateStrategy?: { workloadUpdateMethods?: string[]; [k: string]: unknown };
    [key: string]: unknown;
  };
  status?: { observedKubeVirtVersion?: string; phase?: string; [key: string]: unknown };
}

/** One entry of k8s.v1.cni.cncf.io/network-status. */
export interface NetworkStatusEntry {
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  mtu?: number;
  default?: boolean;
  dns?: unknown;
  'device-info'?: unknown;
  gateway?: string[];
  [key: string]: unknown;
}

/** A warning attached to a result: printed on stderr, or in `warnings` of json/yaml. */
export interface Warning {
  /** Stable identifier, e.g. "mac-mismatch". */
  code: string;
  message: string;
  /** The object it is about, "namespace/name". */
  object?: string;
}
