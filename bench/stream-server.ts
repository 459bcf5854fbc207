/**
 * A loopback HTTP server, in a process of its own, that answers any watch request with
 * N realistic Pod events as fast as the client reads them (backpressure respected), then ends.
 *   node bench/stream-server.ts <events>   → prints the port
 */
import { createServer } from 'node:http';
import { podEvent } from './fixtures.ts';

const events = Number(process.argv[2] ?? 100_000);
const lines = Array.from({ length: 1000 }, (_, i) => Buffer.from(podEvent(i)));
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  let i = 0;
  const pump = (): void => {
    while (i < events) {
      // Batches of 16 lines per write, like a busy apiserver's flushes.
      const batch = Buffer.concat(
        Array.from({ length: Math.min(16, events - i) }, (_, k) => lines[(i + k) % lines.length] as Buffer),
      );
      i += 16;
      if (!res.write(batch)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  req.on('close', () => res.destroy());
  pump();
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
