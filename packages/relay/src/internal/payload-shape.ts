/** Bounds on the shape of a payload a client sends, checked before any work is done with it. */
export interface PayloadShapeLimits {
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
  /** Most entries in one array, or keys in one object. */
  maxEntries: number;
}

/** What {@link payloadShapeProblem} found: which limit and what is wrong. */
export interface PayloadShapeProblem {
  limit: 'maxPayloadDepth' | 'maxPayloadEntries';
  message: string;
}

/**
 * Checks a decoded payload's nesting depth and the size of its arrays and objects without
 * recursion (a payload 100,000 levels deep costs a loop, never a stack overflow), stopping at the
 * first problem. Strings and numbers are leaves; functions (Socket.IO ack callbacks) are skipped.
 * @param value - what a client sent.
 * @param limits - the bounds.
 * @returns which limit it breaks and how, or `undefined` when the shape is within bounds.
 */
export function payloadShapeProblem(value: unknown, limits: PayloadShapeLimits): PayloadShapeProblem | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const stack: Array<{ value: object; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (depth > limits.maxDepth) return { limit: 'maxPayloadDepth', message: `nested deeper than ${limits.maxDepth} levels` };
    if (Array.isArray(current)) {
      if (current.length > limits.maxEntries) return { limit: 'maxPayloadEntries', message: `an array of ${current.length} entries (at most ${limits.maxEntries})` };
      for (const item of current) if (typeof item === 'object' && item !== null) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    let entries = 0;
    for (const key in current) {
      if (++entries > limits.maxEntries) return { limit: 'maxPayloadEntries', message: `an object with more than ${limits.maxEntries} keys` };
      const item = (current as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push({ value: item, depth: depth + 1 });
    }
  }
  return undefined;
}
