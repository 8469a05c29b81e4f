// Which proxy a request takes (kubectl's rules: the cluster's proxy-url, else
// the environment with NO_PROXY and the loopback exemption, as Go's httpproxy).
// The tunnels (hpagent and socks) are tested against the sandbox in
// test/integration/proxy.test.ts.
import { describe, expect, it } from 'vitest';
import { chooseProxy, parseProxyUrlSetting, parseProxyValue, redactProxy, useEnvProxy } from '../../src/kube/proxy.js';

describe('parseProxyValue (environment values, as Go reads them)', () => {
  it.each([
    ['http://proxy.corp:3128', 'http://proxy.corp:3128/'],
    ['https://proxy.corp', 'https://proxy.corp/'],
    ['socks5://127.0.0.1:1080', 'socks5://127.0.0.1:1080'],
    ['proxy.corp:3128', 'http://proxy.corp:3128/'],
    ['proxy.corp', 'http://proxy.corp/'],
    ['10.0.0.1:8080', 'http://10.0.0.1:8080/'],
    ['http://user:pw@proxy.corp:3128', 'http://user:pw@proxy.corp:3128/'],
  ])('%s -> %s', (value, href) => {
    expect(parseProxyValue(value)?.href).toBe(href);
  });

  it('what is no usable URL either way is no proxy at all', () => {
    for (const v of ['', 'proxy:99999', 'a b', '[::1']) expect([v, parseProxyValue(v)]).toEqual([v, undefined]);
  });

  it('another scheme is read as http://VALUE, as Go does ("ftp://x" is a proxy on host "ftp")', () => {
    expect(parseProxyValue('ftp://x')?.host).toBe('ftp');
  });
});

describe('parseProxyUrlSetting (the kubeconfig proxy-url)', () => {
  it('accepts http, https and socks5 URLs with a host', () => {
    for (const v of ['http://p:3128', 'https://p', 'socks5://127.0.0.1:1080']) expect(parseProxyUrlSetting(v).href.startsWith(v.split(':')[0])).toBe(true);
  });
  it('refuses other schemes and non-URLs, without echoing the value (it may hold a password)', () => {
    expect(() => parseProxyUrlSetting('socks4://u:secret@p:1080')).toThrow(/^proxy-url has scheme "socks4"; kubectl accepts http, https and socks5 URLs with a host$/);
    expect(() => parseProxyUrlSetting('proxy.corp:3128')).toThrow(/scheme "proxy\.corp"/);
    expect(() => parseProxyUrlSetting('http://u:secret@[bad')).toThrow(/^proxy-url is not a URL; use http:\/\/, https:\/\/ or socks5:\/\/HOST:PORT$/);
    try {
      parseProxyUrlSetting('socks4://u:secret@p:1080');
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
    }
  });
});

describe('useEnvProxy (NO_PROXY)', () => {
  it.each([
    // host, port, NO_PROXY, proxied?
    ['api.corp', '443', '', true],
    ['localhost', '6443', '', false],
    ['LOCALHOST', '6443', '', false],
    ['127.0.0.1', '6443', '', false],
    ['127.3.4.5', '6443', '', false],
    ['::1', '6443', '', false],
    ['[::1]', '6443', '', false],
    ['api.corp', '443', '*', false],
    ['api.corp', '443', 'corp', false],
    ['api.corp', '443', 'api.corp', false],
    ['x.api.corp', '443', 'api.corp', false],
    ['xapi.corp', '443', 'api.corp', true],
    ['api.corp', '443', '.api.corp', true],
    ['x.api.corp', '443', '.api.corp', false],
    ['x.api.corp', '443', '*.api.corp', false],
    ['api.corp', '443', '*.api.corp', true],
    ['api.corp', '443', 'api.corp:443', false],
    ['api.corp', '6443', 'api.corp:443', true],
    ['API.Corp', '443', ' other.org , api.CORP ', false],
    ['10.1.2.3', '443', '10.0.0.0/8', false],
    ['11.1.2.3', '443', '10.0.0.0/8', true],
    ['10.1.2.3', '443', '10.1.2.3', false],
    ['10.1.2.3', '443', '10.1.2.3:6443', true],
    ['10.1.2.3', '6443', '10.1.2.3:6443', false],
    ['fd00::5', '443', 'fd00::/8', false],
    ['fd00::5', '443', '[fd00::5]:443', false],
    ['fd00::5', '443', 'fd00:0:0:0:0:0:0:5', false],
    ['fe80::5', '443', 'fd00::/8', true],
    ['10.1.2.3', '443', 'corp', true],
    ['api.corp', '443', '10.0.0.0/8', true],
    ['api.corp', '443', ',,:443,', true],
    // IPv4-mapped IPv6: the same address as its IPv4 form, as Go's IP.Equal and IsLoopback see it.
    ['::ffff:7f00:1', '443', '', false],
    ['::ffff:10.0.0.1', '443', '10.0.0.1', false],
    ['10.0.0.1', '443', '::ffff:10.0.0.1', false],
    ['::ffff:10.1.2.3', '443', '10.0.0.0/8', false],
    ['10.1.2.3', '443', '10.1.2.3/8', false],
    // A bracketed address without a port is a name in Go, which matches nothing.
    ['fd00::5', '443', '[fd00::5]', true],
    // Names are compared in punycode, as the server's host name is.
    ['xn--bcher-kva.example', '443', 'bücher.example', false],
    ['x.xn--bcher-kva.example', '443', '.bücher.example', false],
  ])('%s:%s with NO_PROXY=%j: proxied %s', (host, port, noProxy, want) => {
    expect(useEnvProxy(host, port, noProxy)).toBe(want);
  });
});

describe('chooseProxy', () => {
  const env = { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', HTTP_PROXY: 'http://plain:3128' };
  it('the cluster proxy-url wins, and applies even to a loopback server and NO_PROXY hosts', () => {
    expect(chooseProxy('https://127.0.0.1:6443', 'socks5://127.0.0.1:1080', { ...env, NO_PROXY: '*' })).toMatchObject({ source: 'proxy-url', url: new URL('socks5://127.0.0.1:1080') });
  });
  it('HTTPS_PROXY before https_proxy for an https server; HTTP_PROXY for an http one', () => {
    expect(chooseProxy('https://api.corp:6443', undefined, env)).toMatchObject({ source: 'HTTPS_PROXY', url: new URL('http://upper:3128') });
    expect(chooseProxy('https://api.corp:6443', undefined, { https_proxy: 'lower:3128' })).toMatchObject({ source: 'https_proxy', url: new URL('http://lower:3128') });
    expect(chooseProxy('http://api.corp:8080', undefined, env)).toMatchObject({ source: 'HTTP_PROXY', url: new URL('http://plain:3128') });
    expect(chooseProxy('https://api.corp:6443', undefined, { HTTP_PROXY: 'http://plain:3128' })).toBeNull();
  });
  it('NO_PROXY (or no_proxy) and loopback servers skip the environment proxy; the default port counts', () => {
    expect(chooseProxy('https://api.corp', undefined, { ...env, no_proxy: 'api.corp:443' })).toBeNull();
    expect(chooseProxy('https://api.corp:6443', undefined, { ...env, no_proxy: 'api.corp:443' })).not.toBeNull();
    expect(chooseProxy('https://localhost:6443', undefined, env)).toBeNull();
    expect(chooseProxy('https://[::1]:6443', undefined, env)).toBeNull();
  });
  it('an environment value that is no usable URL means no proxy', () => {
    expect(chooseProxy('https://api.corp', undefined, { HTTPS_PROXY: 'proxy:99999' })).toBeNull();
  });
  it('a bad proxy-url is an error, not a silent direct connection', () => {
    expect(() => chooseProxy('https://api.corp', 'gopher://p', {})).toThrow(/scheme "gopher"/);
  });
});

describe('redactProxy', () => {
  it('a proxy is named without its user and password', () => {
    expect(redactProxy(new URL('http://alice:pw@proxy.corp:3128'))).toBe('http://proxy.corp:3128');
  });
});
