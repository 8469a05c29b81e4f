/**
 * Every command, by oclif id. Command modules stay light: anything heavy
 * (the Kubernetes client, YAML documents) is imported inside run().
 */
import Completion from './commands/completion.js';
import Doctor from './commands/doctor.js';
import HotplugAdd from './commands/hotplug/add.js';
import HotplugRemove from './commands/hotplug/remove.js';
import LinkSet from './commands/link/set.js';
import NetworkSet from './commands/network/set.js';
import MacList from './commands/mac/list.js';
import MacSet from './commands/mac/set.js';
import MacUnset from './commands/mac/unset.js';
import MacpoolOptIn from './commands/macpool/opt-in.js';
import MacpoolOptOut from './commands/macpool/opt-out.js';
import MacpoolStatus from './commands/macpool/status.js';
import Networks from './commands/networks.js';
import Status from './commands/status.js';
import Version from './commands/version.js';

export const COMMANDS = {
  completion: Completion,
  doctor: Doctor,
  'hotplug:add': HotplugAdd,
  'hotplug:remove': HotplugRemove,
  'link:set': LinkSet,
  'network:set': NetworkSet,
  'mac:list': MacList,
  'mac:set': MacSet,
  'mac:unset': MacUnset,
  'macpool:opt-in': MacpoolOptIn,
  'macpool:opt-out': MacpoolOptOut,
  'macpool:status': MacpoolStatus,
  networks: Networks,
  status: Status,
  version: Version,
};
