import { describe, expect, it } from 'vitest';
import { ensureNetconfSidecar, imageRepositoryName, isNetconfSidecar, netconfSidecarImage, parseHookSidecars, removeNetconfSidecar, serializeHookSidecars } from '../../src/domain/hooks.js';

// The smbios example of the hook sidecar docs (seed 001), as a user wrote it.
const SMBIOS = `[
    {
        "args": ["--version", "v1alpha2"],
        "image": "registry:5000/kubevirt/sidecar-shim:devel",
        "configMap": {"name": "my-config-map", "key": "my_script.sh", "hookPath": "/usr/bin/onDefineDomain"}
    }
]`;
const NETCONF = 'registry:5000/kubevirt/netconf-hook-sidecar:latest';

describe('parseHookSidecars', () => {
  it('absent means none; reads the smbios example with all fields', () => {
    expect(parseHookSidecars(undefined)).toEqual({ ok: true, sidecars: [] });
    const r = parseHookSidecars(SMBIOS);
    expect(r).toEqual({ ok: true, sidecars: [{ args: ['--version', 'v1alpha2'], image: 'registry:5000/kubevirt/sidecar-shim:devel', configMap: { name: 'my-config-map', key: 'my_script.sh', hookPath: '/usr/bin/onDefineDomain' } }] });
  });

  it('accepts an entry without image (the sidecar-shim image), pvc, null fields and unknown fields', () => {
    const v = '[{"configMap":{"name":"c","key":"k","hookPath":"/usr/bin/preCloudInitIso"}},{"image":"x","pvc":{"name":"p","volumePath":"/v","sharedComputePath":"/s"},"command":null,"future":{"a":1}}]';
    const r = parseHookSidecars(v);
    expect(r.ok).toBe(true);
    if (r.ok) expect(serializeHookSidecars(r.sidecars)).toBe(v);
  });

  it.each([
    ['[{"image": "x"', /^not valid JSON/],
    ['{"image": "x"}', /^not a JSON list: it is an object/],
    ['[1]', /^entry \[0\] is a number, not an object$/],
    ['[{"image": 5}]', /^entry \[0\]: "image" is a number, not a string$/],
    ['[{"imagePullPolicy": true}]', /^entry \[0\]: "imagePullPolicy" is a boolean, not a string$/],
    ['[{"args": "--version"}]', /^entry \[0\]: "args" is a string, not a list of strings$/],
    ['[{"command": ["a", 1]}]', /^entry \[0\]: "command"\[1\] is a number, not a string$/],
    ['[{"image":"ok"},{"configMap": "cm"}]', /^entry \[1\]: "configMap" is a string, not an object$/],
    ['[{"configMap": {"name": 1}}]', /^entry \[0\]: "configMap.name" is a number, not a string$/],
    ['[{"pvc": {"volumePath": []}}]', /^entry \[0\]: "pvc.volumePath" is a list, not a string$/],
  ])('refuses %j', (value, error) => {
    const r = parseHookSidecars(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});

describe('the netconf sidecar entry', () => {
  it('is recognised by its image repository name', () => {
    expect(imageRepositoryName('registry:5000/kubevirt/netconf-hook-sidecar:latest')).toBe('netconf-hook-sidecar');
    expect(imageRepositoryName('quay.io/x/netconf@sha256:abc')).toBe('netconf');
    expect(imageRepositoryName('netconf')).toBe('netconf');
    expect(isNetconfSidecar({ image: NETCONF })).toBe(true);
    // a registry host or a tag that says netconf does not make it one
    expect(isNetconfSidecar({ image: 'netconf.example:5000/kubevirt/sidecar-shim:netconf' })).toBe(false);
    expect(isNetconfSidecar({ configMap: { name: 'netconf' } })).toBe(false);
  });

  it('ensure appends one {image} entry and keeps the smbios sidecar exactly', () => {
    const smbios = (parseHookSidecars(SMBIOS) as any).sidecars;
    const r = ensureNetconfSidecar(smbios, NETCONF);
    expect(r.changed).toBe(true);
    expect(r.sidecars).toEqual([...smbios, { image: NETCONF }]);
    expect(r.sidecars[0]).toBe(smbios[0]);
  });

  it('ensure with the same image changes nothing; another image updates it in place keeping its fields', () => {
    const list = [{ image: 'a/other:1' }, { image: NETCONF, imagePullPolicy: 'Always', args: ['--v'] }];
    expect(ensureNetconfSidecar(list, NETCONF)).toEqual({ sidecars: list, changed: false });
    const r = ensureNetconfSidecar(list, 'mirror/kubevirt/netconf-hook-sidecar:v1.9.0');
    expect(r.changed).toBe(true);
    expect(r.sidecars).toEqual([{ image: 'a/other:1' }, { image: 'mirror/kubevirt/netconf-hook-sidecar:v1.9.0', imagePullPolicy: 'Always', args: ['--v'] }]);
  });

  it('ensure leaves exactly one netconf entry', () => {
    const r = ensureNetconfSidecar([{ image: NETCONF }, { image: 'x/y' }, { image: NETCONF }], NETCONF);
    expect(r).toEqual({ sidecars: [{ image: NETCONF }, { image: 'x/y' }], changed: true });
  });

  it('remove drops only netconf entries', () => {
    const smbios = (parseHookSidecars(SMBIOS) as any).sidecars;
    expect(removeNetconfSidecar([...smbios, { image: NETCONF }])).toEqual({ sidecars: smbios, changed: true });
    expect(removeNetconfSidecar(smbios)).toEqual({ sidecars: smbios, changed: false });
  });

  it('netconfSidecarImage finds the existing image', () => {
    expect(netconfSidecarImage([{ image: 'x/y' }, { image: NETCONF }])).toBe(NETCONF);
    expect(netconfSidecarImage([{ image: 'x/y' }])).toBeUndefined();
  });
});
