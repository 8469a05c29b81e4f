import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { observe } from '../../src/kube/wait.js';
import { createProgress } from '../../src/render/progress.js';
import type { VirtualMachine, VirtualMachineInstance } from '../../src/domain/types.js';

const vm: VirtualMachine = {
  metadata: { name: 'vm1', namespace: 'ns1' },
  spec: {
    template: {
      spec: {
        domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }, { name: 'blue', bridge: {}, state: 'down' }] } },
        networks: [{ name: 'default', pod: {} }, { name: 'blue', multus: { networkName: 'blue-net' } }],
      },
    },
  },
};

function vmi(specNames: string[], status: { name: string; infoSource?: string; linkState?: string }[], absent: string[] = []): VirtualMachineInstance {
  return {
    metadata: { name: 'vm1', namespace: 'ns1', uid: 'u' },
    spec: {
      domain: { devices: { interfaces: specNames.map((n) => (n === 'default' ? { name: n, masquerade: {} } : { name: n, bridge: {}, ...(absent.includes(n) ? { state: 'absent' as const } : {}) })) } },
      networks: specNames.map((n) => (n === 'default' ? { name: n, pod: {} } : { name: n, multus: { networkName: 'blue-net' } })),
    },
    status: { phase: 'Running', interfaces: status },
  };
}

describe('observe (the --wait states, as kubectl vnet status names them)', () => {
  it('walks an add through pending, attaching and ready', () => {
    const goal = { kind: 'ready' as const, name: 'blue' };
    expect(observe(goal, vm, vmi(['default'], [{ name: 'default', infoSource: 'domain' }]))).toEqual({ done: false, state: 'pending' });
    expect(observe(goal, vm, vmi(['default', 'blue'], [{ name: 'default', infoSource: 'domain' }]))).toEqual({ done: false, state: 'pending' });
    expect(observe(goal, vm, vmi(['default', 'blue'], [{ name: 'blue', infoSource: 'multus-status' }]))).toEqual({ done: false, state: 'attaching' });
    expect(observe(goal, vm, vmi(['default', 'blue'], [{ name: 'blue', infoSource: 'domain, guest-agent' }]))).toEqual({ done: true, state: 'ready' });
  });

  it('an unplug is done only when the interface has left the VMI spec and status', () => {
    const goal = { kind: 'gone' as const, name: 'blue' };
    expect(observe(goal, vm, vmi(['default', 'blue'], [{ name: 'blue', infoSource: 'domain' }], ['blue']))).toEqual({ done: false, state: 'unplugging' });
    expect(observe(goal, vm, vmi(['default', 'blue'], [], ['blue']))).toEqual({ done: false, state: 'detached' });
    expect(observe(goal, vm, vmi(['default'], [{ name: 'blue', infoSource: 'multus-status' }]))).toMatchObject({ done: false });
    expect(observe(goal, vm, vmi(['default'], [{ name: 'default', infoSource: 'domain' }]))).toEqual({ done: true, state: 'gone' });
  });

  it('a link goal waits for the reported linkState', () => {
    const goal = { kind: 'link' as const, name: 'blue', state: 'down' as const };
    expect(observe(goal, vm, vmi(['default', 'blue'], [{ name: 'blue', infoSource: 'domain', linkState: 'up' }]))).toEqual({ done: false, state: 'link up' });
    expect(observe(goal, vm, vmi(['default', 'blue'], [{ name: 'blue', infoSource: 'domain' }]))).toEqual({ done: false, state: 'link not reported yet (ready)' });
    expect(observe(goal, vm, vmi(['default', 'blue'], [{ name: 'blue', infoSource: 'domain', linkState: 'down' }]))).toEqual({ done: true, state: 'link down' });
  });
});

describe('createProgress', () => {
  function stream(tty: boolean) {
    let text = '';
    const s = new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    }) as unknown as NodeJS.WriteStream & { read(): string };
    (s as { isTTY?: boolean }).isTTY = tty;
    s.read = () => text;
    return s;
  }

  it('writes plain lines when not on a TTY, with NO_COLOR, or with -o', async () => {
    for (const [tty, env, machineOutput] of [[false, {}, false], [true, { NO_COLOR: '1' }, false], [true, {}, true]] as const) {
      const s = stream(tty);
      const p = await createProgress('interface blue', { stream: s, env, machineOutput });
      p.update('pending');
      p.update('ready');
      p.finish('interface blue: ready', true);
      expect(s.read()).toBe('interface blue: pending\ninterface blue: ready\n');
    }
  });
});
