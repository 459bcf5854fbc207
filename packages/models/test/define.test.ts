import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pod } from '@kwatch/models/v1';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  adoptObject,
  defineResource,
  isKwatchError,
  type KwatchError,
  modelClassFor,
  ObjectMetaSchema,
  realModel,
  resourceFromCRD,
  watchTarget,
} from '../src/index.ts';

const crdYaml = readFileSync(join(import.meta.dirname, 'fixtures/crontab-crd.yaml'), 'utf8');

function error(fn: () => unknown): KwatchError {
  try {
    fn();
  } catch (e) {
    if (isKwatchError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

describe('defineResource', () => {
  const CronTab = defineResource({
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
    plural: 'crontabs',
    namespaced: true,
  });

  it('describes a namespaced custom resource, watchable within a namespace and across all', () => {
    expect(CronTab.apiVersion).toBe('stable.example.com/v1');
    expect(CronTab.info).toMatchObject({ listKind: 'CronTabList', watchAll: true, watchNamespaced: true });
    expect(watchTarget(CronTab, { namespace: 'jobs' }).namespace).toBe('jobs');
    expect(watchTarget(CronTab).namespace).toBeUndefined();
  });

  it('refuses a namespace for a cluster-scoped custom resource', () => {
    const Cluster = defineResource({ group: 'x.example.com', version: 'v1', kind: 'Thing', plural: 'things', namespaced: false });
    expect(error(() => watchTarget(Cluster as never, { namespace: 'a' as never })).message).toBe(
      'Thing has no namespaced watcher support',
    );
  });

  it('names the field that is wrong and what was expected', () => {
    const bad = (patch: object) =>
      error(() =>
        defineResource({
          group: 'stable.example.com',
          version: 'v1',
          kind: 'CronTab',
          plural: 'crontabs',
          namespaced: true,
          ...patch,
        }),
      );
    expect(bad({ plural: 'CronTabs' }).message).toBe(
      "Invalid resource definition: expected `plural` to be a lowercase resource name such as 'crontabs'",
    );
    expect(bad({ kind: 'cronTab' }).code).toBe('INVALID_RESOURCE');
    expect(bad({ kind: 'cronTab' }).message).toContain('`kind`');
    expect(bad({ namespaced: 'yes' }).message).toContain('`namespaced` to be true or false');
    expect(bad({ group: 'Bad_Group' }).message).toContain('`group`');
    expect(bad({ schema: { parse() {} } }).message).toContain('`schema` to be a zod schema');
  });
});

describe('resourceFromCRD', () => {
  it('reads a v1 CRD from YAML and picks the storage version by default', () => {
    const r = resourceFromCRD(crdYaml);
    expect(r.info).toMatchObject({
      apiVersion: 'stable.example.com/v1',
      kind: 'CronTab',
      plural: 'crontabs',
      namespaced: true,
      listKind: 'CronTabList',
    });
  });

  it('takes another served version when asked', () => {
    expect(resourceFromCRD(crdYaml, { version: 'v1beta1' }).apiVersion).toBe('stable.example.com/v1beta1');
  });

  it('refuses a version that is not served or does not exist', () => {
    expect(error(() => resourceFromCRD(crdYaml, { version: 'v0' })).message).toBe(
      'CRD crontabs.stable.example.com does not serve version v0',
    );
    expect(error(() => resourceFromCRD(crdYaml, { version: 'v9' })).message).toBe(
      'CRD crontabs.stable.example.com has no version v9; it has v1beta1, v1, v0',
    );
  });

  it('refuses a v1beta1 CRD, a non-CRD and broken YAML with a clear error', () => {
    const v1beta1 = crdYaml.replace('apiextensions.k8s.io/v1', 'apiextensions.k8s.io/v1beta1');
    expect(error(() => resourceFromCRD(v1beta1)).message).toContain("'apiextensions.k8s.io/v1' (v1beta1 CRDs are not supported)");
    expect(error(() => resourceFromCRD({ apiVersion: 'v1', kind: 'ConfigMap' })).code).toBe('INVALID_CRD');
    expect(error(() => resourceFromCRD('spec: [unclosed')).message).toMatch(/^Invalid CRD YAML: /);
  });

  it('accepts the CRD as an object too, and finds it in a multi-document file', () => {
    const multi = `apiVersion: v1\nkind: Namespace\nmetadata: {name: jobs}\n---\n${crdYaml}`;
    expect(resourceFromCRD(multi).kind).toBe('CronTab');
  });
});

describe('decoding objects', () => {
  const raw = () =>
    JSON.parse(
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":"2026-11-22T03:00:00Z","resourceVersion":"7"},' +
        '"spec":{"containers":[{"name":"c","image":"i"}]},"futureField":{"x":1}}',
    ) as object;

  it('adopts the parsed JSON as a Pod without copying it', async () => {
    const json = raw();
    const cls = await modelClassFor(watchTarget(Pod));
    const pod = adoptObject<Pod>(json, cls, undefined);
    expect(pod).toBe(json);
    expect(pod).toBeInstanceOf(Pod);
    expect(pod.metadata?.creationTimestamp).toBe('2026-11-22T03:00:00Z');
    expect((pod as unknown as Record<string, unknown>).futureField).toEqual({ x: 1 });
    expect(JSON.parse(JSON.stringify(pod))).toEqual(raw());
  });

  it('loads the item class for a list class', async () => {
    const { PodList } = await import('@kwatch/models/v1');
    expect(await modelClassFor(watchTarget(PodList))).toBe(realModel(Pod));
  });

  it('validates custom objects with the schema and reports a mismatch as a DecodeError SCHEMA_MISMATCH (not retryable: the server would send it again)', () => {
    const CronTab = defineResource({
      group: 'stable.example.com',
      version: 'v1',
      kind: 'CronTab',
      plural: 'crontabs',
      namespaced: true,
      schema: z.looseObject({ metadata: ObjectMetaSchema, spec: z.object({ cronSpec: z.string() }) }),
    });
    const t = watchTarget(CronTab);
    const ok = adoptObject(JSON.parse('{"metadata":{"name":"a"},"spec":{"cronSpec":"* * * * */5"}}'), undefined, t.schema);
    expect(ok.spec.cronSpec).toBe('* * * * */5');
    const e = error(() => adoptObject({ metadata: {}, spec: { cronSpec: 5 } }, undefined, t.schema));
    expect(e.code).toBe('SCHEMA_MISMATCH');
    expect(e.name).toBe('DecodeError');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/^Object does not match the resource's schema: spec\.cronSpec: /);
  });
});
