/**
 * The group a custom-metric sample is taken in (ctx.group()), for samples added without ctx:
 * `myTrend.add(v)` inside `ctx.group('a', …)` carries the group's tags (`group: '::a'` and the
 * scenario), as built-in samples do. Many VUs run their groups at once on one event loop, so the
 * current group follows the async call chain: an AsyncLocalStorage, created at the first group a
 * run enters. Until then (every run without ctx.group(), flag-only runs included) nothing is
 * installed and a lookup is one comparison with undefined; the storage's promise hooks only tax
 * runs that use groups (measured in the README: CPU per message with and without).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

let storage: AsyncLocalStorage<Readonly<Record<string, string>>> | undefined;

/** Runs `fn` with `tags` as the current group's tags (nested groups: the innermost wins). */
export function runInGroup<T>(tags: Readonly<Record<string, string>>, fn: () => T): T {
  storage ??= new AsyncLocalStorage();
  return storage.run(tags, fn);
}

/** The tags of the group the caller runs in, or undefined outside any group. */
export function currentGroupTags(): Readonly<Record<string, string>> | undefined {
  return storage === undefined ? undefined : storage.getStore();
}

/**
 * The tags a sample added with `tags` (maybe none) carries: inside a group the group's tags
 * under the script's own (a script's explicit `group` tag wins), else `tags` as given.
 */
export function withGroupTags<Tags extends Readonly<Record<string, string>>>(tags: Tags | undefined): Readonly<Record<string, string>> | Tags | undefined {
  if (storage === undefined) return tags;
  const group = storage.getStore();
  if (group === undefined) return tags;
  return tags === undefined ? group : { ...group, ...tags };
}
