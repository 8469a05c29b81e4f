/**
 * Every command, by oclif id. Command modules stay light: anything heavy
 * (the Kubernetes client, YAML documents) is imported inside run().
 */
import Status from './commands/status.js';
import Version from './commands/version.js';

export const COMMANDS = {
  status: Status,
  version: Version,
};
