import { describe, expect, it } from 'vitest';
import { RevisionedCache, type RevisionedWrite } from '../../local/store/revisioned-cache.ts';

interface State {
  readonly revision: number;
  readonly value: string;
}

/** A cache whose flushes run when the test says, over a store that records what reached it. */
function cacheOver(stored: Map<string, State>, fail = { next: false }) {
  const persisted: RevisionedWrite<State>[][] = [];
  const flushes: (() => void)[] = [];
  let loads = 0;
  const cache = new RevisionedCache<State>(
    (writes) => {
      if (fail.next) {
        fail.next = false;
        return Promise.reject(new Error('disk full'));
      }
      persisted.push([...writes]);
      for (const write of writes) stored.set(write.key, write.state);
      return Promise.resolve();
    },
    (flush) => flushes.push(flush),
  );
  const load = (key: string) => () => {
    loads += 1;
    return Promise.resolve(stored.get(key));
  };
  const flush = () => {
    for (const run of flushes.splice(0)) run();
  };
  return { cache, persisted, load, flush, loads: () => loads };
}

describe('RevisionedCache', () => {
  it('GIVEN two saves of the same revision in one turn WHEN they reach the store THEN one wins, in one write', async () => {
    const stored = new Map<string, State>();
    const { cache, persisted, load, flush } = cacheOver(stored);
    const first = cache.save('a', { revision: 1, value: 'x' }, load('a'));
    const second = cache.save('a', { revision: 1, value: 'y' }, load('a'));
    await new Promise(setImmediate);
    flush();
    expect(await Promise.all([first, second])).toEqual([true, false]);
    expect(persisted).toHaveLength(1);
    expect(stored.get('a')).toEqual({ revision: 1, value: 'x' });
  });

  it('GIVEN saves of several keys in one turn WHEN flushed THEN one store call carries them all, each with the state it replaces', async () => {
    const stored = new Map<string, State>([['b', { revision: 3, value: 'old' }]]);
    const { cache, persisted, load, flush } = cacheOver(stored);
    const saves = [
      cache.save('a', { revision: 1, value: 'new a' }, load('a')),
      cache.save('b', { revision: 4, value: 'new b' }, load('b')),
    ];
    await new Promise(setImmediate);
    flush();
    expect(await Promise.all(saves)).toEqual([true, true]);
    expect(persisted).toEqual([
      [
        { key: 'a', state: { revision: 1, value: 'new a' }, previous: undefined },
        { key: 'b', state: { revision: 4, value: 'new b' }, previous: { revision: 3, value: 'old' } },
      ],
    ]);
  });

  it('reads a key from the store once, then from memory', async () => {
    const stored = new Map<string, State>([['a', { revision: 2, value: 'x' }]]);
    const { cache, load, loads } = cacheOver(stored);
    expect(await cache.get('a', load('a'))).toEqual({ revision: 2, value: 'x' });
    expect(await cache.get('a', load('a'))).toEqual({ revision: 2, value: 'x' });
    expect(loads()).toBe(1);
  });

  it('GIVEN a failed store write WHEN the save is awaited THEN it rejects, and the key is read from the store again', async () => {
    const stored = new Map<string, State>([['a', { revision: 1, value: 'kept' }]]);
    const fail = { next: true };
    const { cache, load, flush, loads } = cacheOver(stored, fail);
    const save = cache.save('a', { revision: 2, value: 'lost' }, load('a'));
    await new Promise(setImmediate);
    flush();
    await expect(save).rejects.toThrow('disk full');
    expect(await cache.get('a', load('a'))).toEqual({ revision: 1, value: 'kept' });
    expect(loads()).toBe(2);
  });

  it('GIVEN every row preloaded WHEN an unknown key is read THEN the store is not asked', async () => {
    const { cache, load, loads } = cacheOver(new Map());
    cache.preload([['a', { revision: 1, value: 'x' }]]);
    expect(await cache.get('b', load('b'))).toBeUndefined();
    expect(await cache.get('a', load('a'))).toEqual({ revision: 1, value: 'x' });
    expect(loads()).toBe(0);
  });
});
