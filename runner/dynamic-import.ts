/**
 * import() for code that runs in the built CLI. bin/runner.js compiles dist/cli.cjs with a V8
 * code cache, and Node 20 loses a vm script's import() callback in code that comes from such a
 * cache (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING); the one way around it, short of an
 * experimental vm flag that prints a warning, is to import from outside the script. So the
 * launcher hands over its own import() under this symbol. Run from source (the tests), it is
 * plain import().
 */
const HOST_IMPORT_KEY = Symbol.for('runner.hostImport');

export function importModule<T>(specifier: string): Promise<T> {
  const hostImport = (globalThis as Record<symbol, unknown>)[HOST_IMPORT_KEY] as ((specifier: string) => Promise<T>) | undefined;
  return hostImport ? hostImport(specifier) : (import(specifier) as Promise<T>);
}
