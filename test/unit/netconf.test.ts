import { describe, expect, it } from 'vitest';
import { netconfMacFor, parseNetconfAnnotation, serializeNetconf, setNetconfEntry, unsetNetconfEntry } from '../../src/domain/netconf.js';

describe('parseNetconfAnnotation', () => {
  it('absent means no entries', () => {
    expect(parseNetconfAnnotation(undefined)).toEqual({ ok: true, entries: [] });
  });

  it('reads the seed example and keeps unknown fields', () => {
    const r = parseNetconfAnnotation('[{"name": "blue", "macAddress": "02:02:02:02:02:02", "comment": {"by": "ops"}}]');
    expect(r).toEqual({ ok: true, entries: [{ name: 'blue', macAddress: '02:02:02:02:02:02', comment: { by: 'ops' } }] });
  });

  it('an empty list is fine', () => {
    expect(parseNetconfAnnotation('[]')).toEqual({ ok: true, entries: [] });
  });

  it.each([
    ['', /^not valid JSON/],
    ['[{"name": "blue"', /^not valid JSON/],
    ["[{'name': 'blue'}]", /^not valid JSON/],
    ['{"name": "blue", "macAddress": "02:02:02:02:02:02"}', /^not a JSON list: it is an object/],
    ['null', /^not a JSON list: it is null/],
    ['"02:02:02:02:02:02"', /^not a JSON list: it is a string/],
    ['[null]', /^entry \[0\] is null, not an object/],
    ['[{"name":"a","macAddress":"02:00:00:00:00:01"}, "blue"]', /^entry \[1\] is a string, not an object/],
    ['[[]]', /^entry \[0\] is a list, not an object/],
    ['[{"macAddress": "02:00:00:00:00:01"}]', /^entry \[0\] has no "name"$/],
    ['[{"name": 7, "macAddress": "02:00:00:00:00:01"}]', /^entry \[0\]: "name" is a number, not a string$/],
    ['[{"name": "", "macAddress": "02:00:00:00:00:01"}]', /^entry \[0\]: "name" is empty$/],
    ['[{"name": "blue"}]', /^entry \[0\] \("blue"\) has no "macAddress"$/],
    ['[{"name": "blue", "macAddress": null}]', /^entry \[0\] \("blue"\): "macAddress" is null, not a string$/],
    ['[{"name": "blue", "macAddress": ["02:00:00:00:00:01"]}]', /^entry \[0\] \("blue"\): "macAddress" is a list, not a string$/],
  ])('refuses %j with a precise error', (value, error) => {
    const r = parseNetconfAnnotation(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});

describe('set / unset / serialise', () => {
  const raw = '[{"name":"red","macAddress":"02:00:00:00:00:0a","x":1},{"name":"blue","macAddress":"02:00:00:00:00:0b","keep":true},{"name":"green","macAddress":"02:00:00:00:00:0c"}]';
  const entries = (parseNetconfAnnotation(raw) as { ok: true; entries: any[] }).entries;

  it('round-trips exactly', () => {
    expect(serializeNetconf(entries)).toBe(raw);
  });

  it('set updates the entry in place, keeping its other fields and every other entry', () => {
    const r = setNetconfEntry(entries, 'blue', '02:00:00:00:00:ff');
    expect(r.changed).toBe(true);
    expect(serializeNetconf(r.entries)).toBe(raw.replace('02:00:00:00:00:0b', '02:00:00:00:00:ff'));
    // the input is not modified
    expect(serializeNetconf(entries)).toBe(raw);
  });

  it('set appends a new interface at the end', () => {
    const r = setNetconfEntry(entries, 'pink', '02:00:00:00:00:01');
    expect(r.changed).toBe(true);
    expect(serializeNetconf(r.entries)).toBe(raw.slice(0, -1) + ',{"name":"pink","macAddress":"02:00:00:00:00:01"}]');
  });

  it('set of the same MAC changes nothing', () => {
    const r = setNetconfEntry(entries, 'blue', '02:00:00:00:00:0b');
    expect(r.changed).toBe(false);
    expect(r.entries).toEqual(entries);
  });

  it('set never duplicates: later entries of the same name are dropped', () => {
    const dup = [{ name: 'blue', macAddress: '02:00:00:00:00:01' }, { name: 'red', macAddress: '02:00:00:00:00:02' }, { name: 'blue', macAddress: '02:00:00:00:00:03' }];
    const r = setNetconfEntry(dup, 'blue', '02:00:00:00:00:01');
    expect(r).toEqual({ entries: [dup[0], dup[1]], changed: true, droppedDuplicates: 1 });
    expect(netconfMacFor(dup, 'blue')).toBe('02:00:00:00:00:03');
  });

  it('unset removes only that interface', () => {
    const r = unsetNetconfEntry(entries, 'blue');
    expect(r.changed).toBe(true);
    expect(serializeNetconf(r.entries)).toBe('[{"name":"red","macAddress":"02:00:00:00:00:0a","x":1},{"name":"green","macAddress":"02:00:00:00:00:0c"}]');
    expect(unsetNetconfEntry(entries, 'none').changed).toBe(false);
  });

  it('values with quotes survive a round trip through the serializer', () => {
    const r = setNetconfEntry([{ name: 'a"b', macAddress: 'x' }], 'c\\d', '02:00:00:00:00:01');
    const back = parseNetconfAnnotation(serializeNetconf(r.entries));
    expect(back).toEqual({ ok: true, entries: r.entries });
  });
});
