/**
 * Every command, by oclif id. Command modules stay light: anything heavy
 * (the Kubernetes client, YAML documents) is imported inside run().
 */
import Version from './commands/version.js';

export const COMMANDS = {
  version: Version,
};
