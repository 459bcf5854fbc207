import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer, tcpConnectionsTo } from '../src/index.ts';

interface Answer {
  status: number;
  body: string;
}

function caAndToken(server: ScriptedServer): { ca: Buffer; token: string } {
  const config = JSON.parse(readFileSync(server.kubeconfigPath, 'utf8'));
  return {
    ca: Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64'),
    token: config.users[0].user.token,
  };
}

function get(server: ScriptedServer, path: string, agent: Agent, token?: string): Promise<Answer> {
  const { ca, token: good } = caAndToken(server);
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { ca, agent, headers: { authorization: `Bearer ${token ?? good}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function lines(body: string): { type: string; object: Record<string, any> }[] {
  return body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('ScriptedServer', () => {
  let server: ScriptedServer | undefined;
  let agent: Agent;
  beforeEach(() => {
    agent = new Agent({ keepAlive: true });
  });
  afterEach(async () => {
    agent.destroy();
    await server?.stop();
  });

  it('answers LISTs with the fixed list and watches per mode, and counts them', async () => {
    server = await startScriptedServer({ namespace: 'x', items: 2 });
    const list = await get(server, '/api/v1/namespaces/x/configmaps?limit=500', agent);
    expect(list.status).toBe(200);
    const parsed = JSON.parse(list.body);
    expect(parsed.metadata.resourceVersion).toBe('100');
    expect(parsed.items.map((i: any) => i.metadata.name)).toEqual(['cm-0', 'cm-1']);

    server.mode = 'closeAtOnce';
    expect(await get(server, '/api/v1/configmaps?watch=true&resourceVersion=100', agent)).toEqual({ status: 200, body: '' });

    server.mode = 'goneForever';
    const gone = await get(server, '/api/v1/namespaces/x/configmaps?watch=true&sendInitialEvents=true', agent);
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.body)).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });

    server.mode = 'goneInStream';
    const inStream = await get(server, '/api/v1/namespaces/x/configmaps?watch=true&resourceVersion=5', agent);
    expect(inStream.status).toBe(200);
    expect(lines(inStream.body)).toEqual([{ type: 'ERROR', object: expect.objectContaining({ code: 410, reason: 'Expired' }) }]);

    server.watchList = false;
    const refused = await get(server, '/api/v1/namespaces/x/configmaps?watch=true&sendInitialEvents=true', agent);
    expect(refused.status).toBe(422);
    expect(JSON.parse(refused.body)).toMatchObject({ kind: 'Status', code: 422, reason: 'Invalid' });

    expect((await get(server, '/api/v1/namespaces/x/configmaps', agent, 'wrong')).status).toBe(401);
    expect((await get(server, '/api/v1/namespaces/x/secrets', agent)).status).toBe(404);
    expect(server.counts()).toEqual({ list: 1, watch: 2, watchList: 2, other: 2 });
    const ts = server.timestamps();
    expect(ts).toHaveLength(7);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    server.reset();
    expect(server.counts()).toEqual({ list: 0, watch: 0, watchList: 0, other: 0 });
  });

  it('holds a healthy WatchList open after the initial events, and stop() ends it, leaving nothing', async () => {
    server = await startScriptedServer({ items: 3 });
    const s = server;
    const { ca, token } = caAndToken(s);
    const port = Number(new URL(s.url).port);
    const first = await new Promise<{ res: IncomingMessage; text: string }>((resolve, reject) => {
      const req = request(
        `${s.url}/api/v1/namespaces/x/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`,
        { ca, agent, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (c: string) => {
            text += c;
            if (text.includes('BOOKMARK')) resolve({ res, text });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    const events = lines(first.text);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'ADDED', 'BOOKMARK']);
    expect(events[0]?.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm-0' } });
    expect(events[3]?.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    expect(tcpConnectionsTo(port)).toBe(1);
    const ended = new Promise((resolve) => first.res.once('close', resolve));
    await s.stop();
    await ended;
    await expect.poll(() => tcpConnectionsTo(port)).toBe(0);
    expect(existsSync(s.kubeconfigPath)).toBe(false);
  });
});
