import type { Settings } from '../settings.js';
import type { SystemId } from '../systems.js';

/** One measured figure set of one run. */
export type Metrics = Record<string, number>;

/** One row of a scenario: a system in a variant (for example 1,000 streams). */
export interface Cell {
  system: SystemId;
  variant: string;
  /** Scenario-specific parameters of the variant. */
  params?: Record<string, number>;
}

/** A column of a scenario's table. */
export interface Column {
  key: string;
  label: string;
  /** Digits after the point. */
  digits: number;
  /** Lower is better (latency, memory) or higher (throughput). */
  better: 'lower' | 'higher';
}

/** A scenario: its rows, how to measure one row once, and its table. */
export interface Scenario {
  id: string;
  title: string;
  description(settings: Settings): string;
  cells(settings: Settings): Cell[];
  /** Systems that cannot take part, and why (shown in the table and the README). */
  notApplicable: Partial<Record<SystemId, string>>;
  columns: Column[];
  measure(cell: Cell, settings: Settings, run: number): Promise<Metrics>;
}

/** The floors take part in ingest only: the reason every other scenario shows for them. */
export const FLOORS_INGEST_ONLY: Partial<Record<SystemId, string>> = {
  'socketio-1': 'a floor for ingest only',
  'socketio-64': 'a floor for ingest only',
  'redis-xadd': 'a floor for ingest only',
};
