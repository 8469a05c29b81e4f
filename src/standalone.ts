/**
 * Runs the CLI without a package folder: the single-file executables built by
 * scripts/release.mjs have no package.json, oclif.manifest.json or dist/ on
 * disk, so this hands oclif's public `Config.load` a ready root plugin (the
 * `plugins` option) built from the package.json object, the oclif manifest
 * (both embedded at bundle time) and the COMMANDS map (bundled). oclif then
 * reads nothing from disk to find commands; help, topics, flag parsing and
 * errors are oclif's own, exactly as in the npm-installed CLI.
 */
import { Config, type Command, type Interfaces } from '@oclif/core';
import { COMMANDS } from './commands.js';
import { runTopLevel } from './cli/top-level.js';
import { compareStrings } from './domain/order.js';

export interface EmbeddedManifest {
  version: string;
  commands: Record<string, Command.Cached>;
}

type CommandMap = Record<string, Command.Class>;

/** An oclif root plugin whose commands and manifest live in memory. */
export function embeddedPlugin(pjson: Interfaces.PJSON, manifest: EmbeddedManifest, commands: CommandMap = COMMANDS as unknown as CommandMap, root = '/kubectl-vnet'): Interfaces.Plugin {
  const missing = Object.keys(manifest.commands).filter((id) => !(id in commands));
  const extra = Object.keys(commands).filter((id) => !(id in manifest.commands));
  if (missing.length > 0 || extra.length > 0) {
    // A bundle built from a stale manifest: refuse rather than show wrong help.
    throw new Error(`embedded oclif manifest does not match the bundled commands (missing: ${missing.join(',') || '-'}; not in manifest: ${extra.join(',') || '-'})`);
  }
  const plugin: Interfaces.Plugin = {
    _base: `${pjson.name}@${pjson.version}`,
    alias: pjson.name,
    commandIDs: Object.keys(manifest.commands),
    commandsDir: undefined,
    commands: [],
    async findCommand(id: string, opts?: { must: boolean }) {
      const cmd = commands[id];
      if (!cmd) {
        if (opts?.must) throw new Error(`command ${id} not found`);
        return undefined as unknown as Command.Class;
      }
      cmd.id = id;
      cmd.plugin = plugin;
      return cmd;
    },
    hasManifest: true,
    hooks: {},
    isRoot: true,
    async load() {},
    moduleType: 'module',
    name: pjson.name,
    options: { root, pjson, isRoot: true },
    pjson,
    root,
    get topics() {
      const topics = (pjson.oclif.topics ?? {}) as Record<string, { description?: string; hidden?: boolean }>;
      return Object.entries(topics).map(([name, t]) => ({ name, description: t.description, hidden: t.hidden }));
    },
    type: 'core',
    valid: true,
    version: pjson.version,
  } as Interfaces.Plugin;
  plugin.commands = Object.entries(manifest.commands)
    .map(([id, c]) => ({ ...c, id, pluginAlias: plugin.alias, pluginType: 'core', load: async () => plugin.findCommand(id, { must: true }) }))
    .sort((a, b) => compareStrings(a.id, b.id));
  return plugin;
}

/**
 * oclif's logger writes only when DEBUG names its namespace (through the
 * `debug` package). Without DEBUG this logger, which writes nothing, is the
 * same, and the executable then never loads `debug` (nor `tty` with it).
 */
export function quietLogger(namespace = 'kubectl-vnet'): Interfaces.Logger {
  const none = () => undefined;
  return { namespace, debug: none, error: none, info: none, trace: none, warn: none, child: (ns: string) => quietLogger(`${namespace}:${ns}`) };
}

/** Options for oclif's Config.load that make it use the embedded plugin only. */
export function embeddedLoadOptions(pjson: Interfaces.PJSON, manifest: EmbeddedManifest, env: NodeJS.ProcessEnv = process.env): Interfaces.LoadOptions {
  const plugin = embeddedPlugin(pjson, manifest);
  return { root: plugin.root, pjson, plugins: new Map([[plugin.name, plugin]]), userPlugins: false, devPlugins: false, ...(env.DEBUG ? {} : { logger: quietLogger() }) };
}

/** The oclif Config of the embedded CLI (for tests and completion). */
export async function embeddedConfig(pjson: Interfaces.PJSON, manifest: EmbeddedManifest): Promise<Config> {
  return Config.load(embeddedLoadOptions(pjson, manifest));
}

/** What bin/kubectl-vnet.js does through `execute`, for the embedded CLI. */
export async function runEmbedded(pjson: Interfaces.PJSON, manifest: EmbeddedManifest, argv = process.argv.slice(2)): Promise<void> {
  await runTopLevel(argv, embeddedLoadOptions(pjson, manifest));
}
