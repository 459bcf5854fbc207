// Watch a custom resource described by a CRD file, across all namespaces, typed by a zod schema.
//   node --conditions=@kwatch/source examples/custom-resource.ts <crd.yaml> [seconds]
import { readFileSync } from 'node:fs';
import { defineResource, ObjectMetaSchema, resourceFromCRD } from '@kwatch/models';
import { Watcher } from '@kwatch/watch-core';
import { z } from 'zod';

const [crdFile, seconds = '10'] = process.argv.slice(2);
const fromFile = resourceFromCRD(readFileSync(crdFile ?? 'crontab-crd.yaml', 'utf8'));
const CronTab = defineResource({
  group: fromFile.info.group,
  version: fromFile.info.version,
  kind: 'CronTab',
  plural: fromFile.info.plural,
  namespaced: true,
  schema: z.looseObject({ metadata: ObjectMetaSchema, spec: z.looseObject({ cronSpec: z.string() }) }),
});
const signal = AbortSignal.timeout(Number(seconds) * 1000);
for await (const we of new Watcher(CronTab, { signal }).stream()) {
  const runs = we.tombstone ? '(tombstone: metadata only)' : `runs ${we.object.spec.cronSpec}`;
  console.log(we.type, `${we.object.metadata.namespace}/${we.object.metadata.name}`, runs);
}
