/**
 * The functions framework runs every request inside a Node `domain` (to
 * answer 500 when a callback-style function throws asynchronously). A domain
 * tags every async resource created while it is active (an async hook, a
 * property and a destroy hook per promise): with the Firestore client's
 * promise chains that was 5-10 % of the ingest function's CPU per alert
 * (bench:push D), and ~4 % of the explore function's. Handlers that let no
 * error escape (every failure becomes an answer, and a rejected promise is
 * still caught by the framework) run outside it.
 */
export function outsideDomain<T>(run: () => T): T {
  (process as {domain?: {exit(): void}}).domain?.exit();
  return run();
}
