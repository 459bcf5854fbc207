// skafos-style listeners with health endpoints: one listener fails on every event and nobody else notices.
//   node --conditions=@kwatch/source examples/listeners.ts <namespace> [seconds]
import { ConfigMap } from '@kwatch/models/v1';
import { EventListener, StreamWatch } from '@kwatch/toolkit';

const [namespace = 'default', seconds = '10'] = process.argv.slice(2);

class Audit extends EventListener<ConfigMap> {
  override create(cm: ConfigMap) {
    console.log('audit: created', cm.metadata?.name);
  }
  override delete(cm: ConfigMap) {
    console.log('audit: deleted', cm.metadata?.name);
  }
}
class Flaky extends EventListener<ConfigMap> {
  override create(): never {
    throw new Error('flaky listener');
  }
}

const sw = new StreamWatch(ConfigMap, [Flaky, new Audit()], {
  namespace,
  onListenerError: (error) => console.log('listener error:', (error as Error).message),
});
const running = sw.run({ healthcheckPort: 0, timeoutSeconds: Number(seconds) });
while (!sw.healthUrl) await new Promise((r) => setTimeout(r, 10));
await new Promise((r) => setTimeout(r, 1000));
console.log('healthz', (await fetch(`${sw.healthUrl}/healthz`)).status, 'readyz', (await fetch(`${sw.healthUrl}/readyz`)).status);
await running;
