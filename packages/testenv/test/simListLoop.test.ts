// SimulatedApiServer's hostile LIST modes (`listLoop`): a continue loop that repeats its token, or brings
// nothing new under fresh tokens; tokens that stay valid once the mode is off; what `requests` records of a page.
import { describe, expect, it } from 'vitest';
import { ManualClock, type SimListPage, SimulatedApiServer } from '../src/index.ts';

const PATH = '/api/v1/namespaces/ns/configmaps';

function server(names: string[]): SimulatedApiServer {
  const sim = new SimulatedApiServer({ clock: new ManualClock() });
  for (const name of names) sim.create('configmaps', { metadata: { name, namespace: 'ns' } });
  return sim;
}

async function list(sim: SimulatedApiServer, query: Record<string, string>): Promise<SimListPage> {
  return (await sim.getJson(PATH, new URLSearchParams(query), new AbortController().signal)) as SimListPage;
}

const names = (page: SimListPage): string[] => page.items.map((o) => (o.metadata as { name: string }).name);

describe('SimulatedApiServer listLoop', () => {
  it("'repeatToken': every page is the first one with the same continue token, with or without limit", async () => {
    const sim = server(['a', 'b', 'c']);
    sim.setModes({ listLoop: 'repeatToken' });
    const first = await list(sim, { limit: '2' });
    expect(names(first)).toEqual(['a', 'b']);
    const token = first.metadata.continue;
    expect(token).toBeDefined();
    for (let i = 0; i < 3; i++) {
      const again = await list(sim, { limit: '2', continue: token as string });
      expect(names(again)).toEqual(['a', 'b']);
      expect(again.metadata.continue).toBe(token);
    }
    const unpaginated = await list(sim, {});
    expect(names(unpaginated)).toEqual(['a', 'b', 'c']);
    expect(unpaginated.metadata.continue).toBeDefined();
    expect(sim.requests.map((r) => r.note)).toEqual(Array(5).fill('list loop (repeatToken)'));
  });

  it("'sameObjects': every page is the first one, under a continue token never given before", async () => {
    const sim = server(['a', 'b', 'c']);
    sim.setModes({ listLoop: 'sameObjects' });
    const tokens = new Set<string>();
    let page = await list(sim, { limit: '1' });
    for (let i = 0; i < 4; i++) {
      expect(names(page)).toEqual(['a']);
      const token = page.metadata.continue as string;
      expect(tokens.has(token)).toBe(false);
      tokens.add(token);
      page = await list(sim, { limit: '1', continue: token });
    }
  });

  it('a token of the loop stays valid once the mode is off: the list goes on from the start of its snapshot', async () => {
    const sim = server(['a', 'b', 'c']);
    sim.setModes({ listLoop: 'sameObjects' });
    const looping = await list(sim, { limit: '2' });
    sim.wellBehaved();
    expect(sim.modes.listLoop).toBeUndefined();
    sim.create('configmaps', { metadata: { name: 'd', namespace: 'ns' } }); // after the snapshot: not listed
    const rest = await list(sim, { limit: '2', continue: looping.metadata.continue as string });
    expect(names(rest)).toEqual(['a', 'b']);
    const last = await list(sim, { limit: '2', continue: rest.metadata.continue as string });
    expect(names(last)).toEqual(['c']);
    expect(last.metadata.continue).toBeUndefined();
    sim.compact();
    await expect(list(sim, { limit: '2', continue: looping.metadata.continue as string })).rejects.toMatchObject({
      httpStatus: 410,
    });
  });

  it('records the keys and the continue token of every LIST page it answered', async () => {
    const sim = server(['a', 'b', 'c']);
    const first = await list(sim, { limit: '2' });
    await list(sim, { limit: '2', continue: first.metadata.continue as string });
    expect(sim.requests.map((r) => r.page)).toEqual([
      { items: ['ns/a', 'ns/b'], continue: first.metadata.continue },
      { items: ['ns/c'] },
    ]);
  });
});
