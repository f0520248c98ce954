/** What a load-generator task gets from its worker process. */
export interface TaskContext {
  /** Tells the harness that `name` happened (for example `ready`). */
  emit(name: string, data?: unknown): void;
  /** Resolves when the harness sends `name` (for example `go`). */
  waitFor(name: string): Promise<void>;
}

/** A load-generator task: runs in its own process and returns a JSON-able result. */
export type Task = (params: never, context: TaskContext) => Promise<unknown>;
