// The proxy named by the environment, by Go's rules (http.ProxyFromEnvironment), as kubectl and client-go read it.
import { describe, expect, it } from 'vitest';
import { proxyFromEnvironment } from '../src/client/envProxy.ts';

const P = 'http://proxy.corp:3128';

describe('proxyFromEnvironment', () => {
  it('names HTTPS_PROXY for https servers and HTTP_PROXY for http ones, upper case first, a bare host:port as http', () => {
    expect(proxyFromEnvironment('https://api.example:6443', { HTTPS_PROXY: P })).toBe(P);
    expect(proxyFromEnvironment('https://api.example:6443', { https_proxy: P })).toBe(P);
    expect(proxyFromEnvironment('https://api.example:6443', { HTTPS_PROXY: P, https_proxy: 'http://other:1' })).toBe(P);
    expect(proxyFromEnvironment('https://api.example:6443', { HTTP_PROXY: P })).toBeUndefined();
    expect(proxyFromEnvironment('http://api.example:8080', { HTTP_PROXY: P, HTTPS_PROXY: 'http://other:1' })).toBe(P);
    expect(proxyFromEnvironment('https://api.example', { HTTPS_PROXY: 'proxy.corp:3128' })).toBe(P);
    expect(proxyFromEnvironment('https://api.example', { HTTPS_PROXY: 'socks5://s:1080' })).toBe('socks5://s:1080');
    expect(proxyFromEnvironment('https://api.example', {})).toBeUndefined();
    expect(proxyFromEnvironment('not a url', { HTTPS_PROXY: P })).toBeUndefined();
  });

  it('never proxies localhost or loopback addresses', () => {
    for (const server of ['https://localhost:6443', 'https://127.0.0.1:6443', 'https://127.3.4.5', 'https://[::1]:6443']) {
      expect(proxyFromEnvironment(server, { HTTPS_PROXY: P }), server).toBeUndefined();
    }
    expect(proxyFromEnvironment('https://[::ffff:127.0.0.1]:6443', { HTTPS_PROXY: P })).toBeUndefined();
    expect(proxyFromEnvironment('https://128.0.0.1', { HTTPS_PROXY: P })).toBe(P);
  });

  it.each([
    // [server, NO_PROXY, proxied?]
    ['https://api.example.com', 'example.com', false],
    ['https://example.com', 'example.com', false],
    ['https://notexample.com', 'example.com', true],
    ['https://api.example.com', '.example.com', false],
    ['https://example.com', '.example.com', true],
    ['https://api.example.com', '*.example.com', false],
    ['https://example.com', '*.example.com', true],
    ['https://API.Example.COM', 'EXAMPLE.com', false],
    ['https://api.example.com', 'other.org, example.com ', false],
    ['https://api.example.com', '*', false],
    ['https://api.example.com:6443', 'example.com:6443', false],
    ['https://api.example.com:6443', 'example.com:443', true],
    ['https://api.example.com', 'example.com:443', false],
    ['https://10.0.0.1:6443', '10.0.0.1', false],
    ['https://10.0.0.2:6443', '10.0.0.1', true],
    ['https://10.0.0.1:6443', '10.0.0.1:443', true],
    ['https://10.0.0.1:6443', '10.0.0.1:6443', false],
    ['https://10.96.0.1', '10.96.0.0/12', false],
    ['https://10.112.0.1', '10.96.0.0/12', true],
    ['https://[fd00::1]:6443', 'fd00::/8', false],
    ['https://[fd00::1]:6443', '[fd00::1]:6443', false],
    ['https://[fe80::1]:6443', 'fd00::/8', true],
    ['https://api.example.com', '', true],
    ['https://api.example.com', ',, ,', true],
  ] as const)('%s with NO_PROXY=%j: proxied %s', (server, noProxy, proxied) => {
    expect(proxyFromEnvironment(server, { HTTPS_PROXY: P, NO_PROXY: noProxy })).toBe(proxied ? P : undefined);
    expect(proxyFromEnvironment(server, { HTTPS_PROXY: P, no_proxy: noProxy })).toBe(proxied ? P : undefined);
  });
});
