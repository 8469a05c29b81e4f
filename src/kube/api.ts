/**
 * The narrow view of the API server that the core and the readers in src/kube
 * use: typed reads, lists, JSON and merge patches, and watches, plus the
 * connection's identity for messages. KubeClient is the live implementation;
 * a test or another transport can stand in for it.
 */
import type { KubeClient } from './client.js';

export type KubeApi = Pick<KubeClient, 'conn' | 'get' | 'getOrNull' | 'list' | 'patch' | 'mergePatch' | 'watch'>;
