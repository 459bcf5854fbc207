// @kwatch/controller: level-triggered reconcile on kwatch's shared informers (the queue so far).
export { ItemBackoff, TokenBucket } from './queue/rateLimiter.ts';
export { type Priority, WorkQueue, type WorkQueueOptions } from './queue/workQueue.ts';
