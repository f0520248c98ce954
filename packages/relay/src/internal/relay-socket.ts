import type {
  ConsumerToRelayEvents,
  ProducerToRelayEvents,
  RelayToConsumerEvents,
  RelayToProducerEvents,
} from '@ss/core/protocol';
import type { Server, Socket } from 'socket.io';
import type { ClientTokenClaims } from '@ss/core';
import type { ReaderBudget } from './reader-budget.js';

export type { ClientTokenClaims };

/** What the handshake middleware learned about a connection. */
export type SocketIdentity =
  | { role: 'producer'; protocol: 'mux'; keyId: string }
  | { role: 'producer'; protocol: 'v1'; streamId: string; overwrite: boolean; keyId: string }
  | { role: 'consumer'; claims: ClientTokenClaims; subscribe?: { streamId: string; fromSeq: number } };

/** What the relay keeps on each connection. */
export interface SocketData {
  identity: SocketIdentity;
  /** A reader connection's output budget (backpressure); unset on producers. */
  readerBudget?: ReaderBudget;
}

/** The relay's Socket.IO server, typed with both roles' events. */
export type RelayServer = Server<
  ProducerToRelayEvents & ConsumerToRelayEvents,
  RelayToProducerEvents & RelayToConsumerEvents,
  Record<string, never>,
  SocketData
>;

/** One connection to the relay (producer or consumer). */
export type RelaySocket = Socket<
  ProducerToRelayEvents & ConsumerToRelayEvents,
  RelayToProducerEvents & RelayToConsumerEvents,
  Record<string, never>,
  SocketData
>;
