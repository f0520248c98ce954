import { StreamstraightError, describeValue } from '@ss/core/protocol';
import { type PayloadShapeLimits, payloadShapeProblem } from './payload-shape.js';
import type { RelaySocket } from './relay-socket.js';
import { type Reporting, toErrorPayload } from './reply.js';

/**
 * Refuses, before any handler sees it, an event whose payload is nested too deep or holds too
 * large an array or object: `BAD_REQUEST` through the event's ack when it has one (in
 * stream-v1's `{success: false}` form for `producer:end`), else as a `stream:error` event.
 * @param socket - a connection of the relay.
 * @param limits - the bounds.
 * @param reporting - the relay's metrics and log.
 */
export function guardPayloads(socket: RelaySocket, limits: PayloadShapeLimits, reporting: Reporting): void {
  socket.use((event, next) => {
    for (let index = 1; index < event.length; index++) {
      const problem = payloadShapeProblem(event[index], limits);
      if (!problem) continue;
      reporting.metrics.limitRefusals.inc({ limit: problem.limit });
      const error = toErrorPayload(
        new StreamstraightError('BAD_REQUEST', `The payload of event ${describeValue(event[0])} was refused: ${problem.message}. The relay's protocol never needs that.`),
        reporting,
      );
      const ack = event.at(-1);
      if (typeof ack === 'function') ack(event[0] === 'producer:end' ? { success: false, error } : { ok: false, error });
      else socket.emit('stream:error', error);
      return;
    }
    next();
  });
}
