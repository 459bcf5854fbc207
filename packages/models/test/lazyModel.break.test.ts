// Breaking the lazy stand-ins where a user subclasses them: a subclass must be its own class, never the stand-in's.
import { ConfigMap, LimitRange, ResourceQuota, Secret } from '@kwatch/models/v1';
import { ConfigMap as RealConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { LimitRange as RealLimitRange } from 'kubernetes-models/v1/LimitRange';
import { ResourceQuota as RealResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Secret as RealSecret } from 'kubernetes-models/v1/Secret';
import { describe, expect, it } from 'vitest';
import { adoptObject, modelAdopterFor, modelClassFor, realModel, watchTarget } from '../src/index.ts';

const line = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"n"},"data":{"k":"v"}}';

describe('a subclass of a lazy stand-in', () => {
  it("is watched as itself: decoded objects are the subclass's, as with a subclass of the real class", async () => {
    class Settings extends ConfigMap {
      get size(): number {
        return Object.keys(this.data ?? {}).length;
      }
    }
    class RealSettings extends RealConfigMap {
      get size(): number {
        return Object.keys(this.data ?? {}).length;
      }
    }
    // The reference: what a subclass of kubernetes-models' own class gets.
    expect(realModel(RealSettings)).toBe(RealSettings);
    const reference = adoptObject<RealSettings>(JSON.parse(line), await modelAdopterFor(watchTarget(RealSettings)), undefined);
    expect(reference).toBeInstanceOf(RealSettings);

    expect(realModel(Settings)).toBe(Settings); // not kubernetes-models' ConfigMap
    expect(await modelClassFor(watchTarget(Settings))).toBe(Settings);
    const cm = adoptObject<Settings>(JSON.parse(line), await modelAdopterFor(watchTarget(Settings)), undefined);
    expect(cm).toBeInstanceOf(Settings);
    expect(cm.size).toBe(1);
    expect(cm).toBeInstanceOf(ConfigMap);
    expect(cm).toBeInstanceOf(RealConfigMap);
    // The stand-in itself still adopts lazily, and its objects are not the subclass's.
    const plain = adoptObject<ConfigMap>(JSON.parse(line), await modelAdopterFor(watchTarget(ConfigMap)), undefined);
    expect(plain).toBeInstanceOf(ConfigMap);
    expect(plain).not.toBeInstanceOf(Settings);
    expect(realModel(ConfigMap)).toBe(RealConfigMap);
  });

  it("takes a static assignment itself, leaving kubernetes-models' class untouched", () => {
    // What `static kind = ...` compiles to without define semantics (useDefineForClassFields: false), and what
    // `Sub.x = ...` is anywhere: a [[Set]] that walks up to the stand-in with the subclass as receiver.
    class Vault extends Secret {}
    const sub = Vault as unknown as Record<string, unknown>;
    sub.kind = 'Vault';
    sub.registry = 'mine';
    expect(RealSecret.kind).toBe('Secret');
    expect(Object.hasOwn(RealSecret, 'registry')).toBe(false);
    expect(Object.hasOwn(Vault, 'kind')).toBe(true);
    expect([sub.kind, sub.registry]).toEqual(['Vault', 'mine']);
    expect(Secret.kind).toBe('Secret');
    expect(RealSecret.is({ apiVersion: 'v1', kind: 'Secret' })).toBe(true);
    // On the stand-in itself an assignment still reaches the real class, as before.
    (Secret as unknown as Record<string, unknown>).registry = 'shared';
    expect((RealSecret as unknown as Record<string, unknown>).registry).toBe('shared');
    delete (Secret as unknown as Record<string, unknown>).registry;
    expect(Object.hasOwn(RealSecret, 'registry')).toBe(false);
  });
});

describe('a lazy stand-in under the reflection a hardening tool does', () => {
  it('freezes as the class does (Object.freeze, isFrozen, every descriptor), and still works', () => {
    expect(Object.freeze(LimitRange)).toBe(LimitRange);
    expect(Object.isFrozen(LimitRange)).toBe(true);
    expect(Object.isFrozen(RealLimitRange)).toBe(true);
    expect(Object.getOwnPropertyDescriptors(LimitRange)).toEqual(Object.getOwnPropertyDescriptors(RealLimitRange));
    expect(Object.getPrototypeOf(LimitRange)).toBe(Object.getPrototypeOf(RealLimitRange));
    expect(Reflect.ownKeys(LimitRange)).toEqual(Reflect.ownKeys(RealLimitRange));
    expect([LimitRange.kind, LimitRange.apiVersion, LimitRange.name]).toEqual(['LimitRange', 'v1', 'LimitRange']);
    expect(new LimitRange({ metadata: { name: 'x' } })).toBeInstanceOf(RealLimitRange);
    expect(Reflect.set(LimitRange, 'kind', 'Other')).toBe(false);
  });

  it('reports its prototype as the class does, and takes a non-configurable property as the class does', () => {
    expect(Object.getOwnPropertyDescriptor(ResourceQuota, 'prototype')).toEqual(
      Object.getOwnPropertyDescriptor(RealResourceQuota, 'prototype'),
    );
    Object.defineProperty(ResourceQuota, 'pinned', { value: 1, configurable: false, writable: true });
    expect(Object.getOwnPropertyDescriptor(ResourceQuota, 'pinned')).toEqual({
      value: 1,
      writable: true,
      enumerable: false,
      configurable: false,
    });
    (ResourceQuota as unknown as { pinned: number }).pinned = 2;
    expect(Object.getOwnPropertyDescriptor(ResourceQuota, 'pinned')?.value).toBe(2);
    expect((RealResourceQuota as unknown as { pinned: number }).pinned).toBe(2);
    expect(Reflect.deleteProperty(ResourceQuota, 'pinned')).toBe(false);
  });
});
