// Two candidates for one Lease: one leads, the other takes over when it stops.
//   node --conditions=@kwatch/source examples/leader-election.ts <namespace>
import { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '@kwatch/toolkit';

const [namespace = 'default'] = process.argv.slice(2);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const name = `example-${Date.now()}`;
const candidates = ['first', 'second'].map(
  (identity) =>
    new LeaderElector({
      kubeConfig,
      namespace,
      name,
      identity,
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 0.5,
      onStartedLeading: () => console.log(`${identity} leads`),
      onStoppedLeading: () => console.log(`${identity} stopped leading`),
    }),
);
void candidates[0]!.run();
await new Promise((r) => setTimeout(r, 1500));
void candidates[1]!.run();
await new Promise((r) => setTimeout(r, 1500));
await candidates[0]!.stop(); // releases the lease
await new Promise((r) => setTimeout(r, 1500));
await candidates[1]!.stop();
