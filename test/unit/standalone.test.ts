import { readFileSync } from 'node:fs';
import type { Interfaces } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { embeddedConfig, embeddedLoadOptions, quietLogger, type EmbeddedManifest } from '../../src/standalone.js';

const pjson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const manifest = JSON.parse(readFileSync(new URL('../../oclif.manifest.json', import.meta.url), 'utf8')) as EmbeddedManifest;

describe('the executables\' oclif options', () => {
  it('use a logger that writes nothing unless DEBUG is set (then oclif\'s own, through `debug`)', () => {
    const quiet = embeddedLoadOptions(pjson, manifest, {}) as Interfaces.Options;
    expect(quiet.logger).toBeDefined();
    const debugging = embeddedLoadOptions(pjson, manifest, { DEBUG: 'oclif:*' }) as Interfaces.Options;
    expect(debugging.logger).toBeUndefined();
  });

  it('the quiet logger has the shape oclif checks before it takes a logger, children included', () => {
    const log = quietLogger();
    for (const l of [log, log.child('config'), log.child('config').child('plugin')]) {
      for (const level of ['debug', 'error', 'info', 'trace', 'warn'] as const) {
        expect(typeof l[level]).toBe('function');
        expect(l[level]('message %s', 'x')).toBeUndefined();
      }
      expect(typeof l.child).toBe('function');
    }
    expect(log.child('config').child('plugin').namespace).toBe('kubectl-vnet:config:plugin');
  });

  it('oclif loads the embedded commands with it', async () => {
    const config = await embeddedConfig(pjson, manifest);
    expect(config.findCommand('status')?.id).toBe('status');
    expect(config.findCommand('hotplug:add')?.id).toBe('hotplug:add');
  });
});
