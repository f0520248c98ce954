// The Durable Streams Node reference server, in-memory mode, as a process of its own.
import { DurableStreamTestServer } from '@durable-streams/server';

const server = new DurableStreamTestServer({ port: 0, host: '127.0.0.1' });
await server.start();
console.log(`durable-streams listening on ${server.url}`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
