import type {
  ConsumerToRelayEvents,
  ProducerToRelayEvents,
  RelayToConsumerEvents,
  RelayToProducerEvents,
} from '@ss/core/protocol';
import type { Server, Socket } from 'socket.io';
import type { ClientTokenClaims } from '@ss/core';

export type { ClientTokenClaims };

/** What the handshake middleware learned about a connection. */
export type SocketIdentity =
  | { role: 'producer'; protocol: 'mux' }
  | { role: 'producer'; protocol: 'v1'; streamId: string; overwrite: boolean }
  | { role: 'consumer'; claims: ClientTokenClaims; subscribe?: { streamId: string; fromSeq: number } };

/** The relay's Socket.IO server, typed with both roles' events. */
export type RelayServer = Server<
  ProducerToRelayEvents & ConsumerToRelayEvents,
  RelayToProducerEvents & RelayToConsumerEvents,
  Record<string, never>,
  { identity: SocketIdentity }
>;

/** One connection to the relay (producer or consumer). */
export type RelaySocket = Socket<
  ProducerToRelayEvents & ConsumerToRelayEvents,
  RelayToProducerEvents & RelayToConsumerEvents,
  Record<string, never>,
  { identity: SocketIdentity }
>;
