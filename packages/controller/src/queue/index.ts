// The queue layer: WorkQueue and its rate limiters.
export { ItemBackoff, TokenBucket } from './rateLimiter.ts';
export { type Priority, type QueueObserver, WorkQueue, type WorkQueueOptions } from './workQueue.ts';
