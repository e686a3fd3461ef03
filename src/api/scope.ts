// scope.ts: deterministic release of native memory. tidy(fn) disposes every tensor created inside
// fn except those it returns (found in arrays, plain objects, Maps) and those marked with keep().

export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const stack: Set<Disposable>[] = [];
const kept = new WeakSet<Disposable>();

/** Called by every new Tensor: it belongs to the innermost open scope. */
export function track(t: Disposable): void {
  const top = stack[stack.length - 1];
  if (top) top.add(t);
}

/** Marks a tensor to survive the scopes it was made in (parameters, optimizer state). */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, into: Set<Disposable>, seen: Set<unknown>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (typeof (value as Disposable).dispose === 'function' && 'isDisposed' in (value as object)) {
    into.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, into, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, seen);
}

/** Runs fn; disposes the tensors it created except the returned ones, which move to the enclosing scope. */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    stack.pop();
    for (const t of scope) if (!kept.has(t)) t.dispose();
    throw err;
  }
  stack.pop();
  if (result instanceof Promise) throw new TypeError('tidy() takes a synchronous function; use tidyAsync() for promises');
  const out = new Set<Disposable>();
  collect(result, out, new Set());
  for (const t of scope) if (!out.has(t) && !kept.has(t)) t.dispose();
  const parent = stack[stack.length - 1];
  if (parent) for (const t of out) if (scope.has(t)) parent.add(t);
  return result;
}

/** The number of tensors the open scopes are tracking (for tests). */
export function trackedCount(): number {
  return stack.reduce((n, s) => n + s.size, 0);
}
