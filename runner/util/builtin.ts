/**
 * Node built-in modules loaded on first use. The CLI bundle runs every module's imports when it
 * starts, and node:tls, http, https, child_process (with dgram), readline, worker_threads and v8
 * together cost ~3.5 ms of CPU to load (measured with process.cpuUsage), which a plain run never
 * uses: the code that needs one asks here when it runs.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The built-ins loaded through here, by name. */
interface LazyBuiltins {
  'node:child_process': typeof import('node:child_process');
  'node:http': typeof import('node:http');
  'node:https': typeof import('node:https');
  'node:readline': typeof import('node:readline');
  'node:tls': typeof import('node:tls');
  'node:v8': typeof import('node:v8');
  'node:worker_threads': typeof import('node:worker_threads');
}

/** Loads (once; Node caches it) and returns the built-in module `name`. */
export function loadBuiltin<Name extends keyof LazyBuiltins>(name: Name): LazyBuiltins[Name] {
  return require(name) as LazyBuiltins[Name];
}
