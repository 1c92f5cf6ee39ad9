/**
 * IterationScope (ctx) without sockets: ctx.group()'s names (refused when they would break the group
 * path, the summary's lines or a threshold key), ctx.vuState kept across a VU's iterations.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IterationScope } from '../../runner/engine/iteration-scope.ts';

function scope(state: Record<string, unknown> = { id: 1, iterations: 0, session: {}, vuState: {}, recorder: { point() {}, currentAccount: undefined, intendedStartMs: 0 } }): IterationScope {
  const host = { groupTags: (path: string): Record<string, string> => (path === '' ? {} : { group: path }), recordGroupDuration() {} };
  return new IterationScope(state as never, host, { scenario: 's', iterationInTest: 0, from: 'a@b', env: {}, data: undefined });
}

test("a name with '::' or a control character (newline, tab, \\x01) is a TypeError saying what is allowed; fn never runs", async () => {
  for (const name of ['a::b', 'two\nlines', 'tab\there', 'ctl\u0001', '', 'del\u007f']) {
    let isRun = false;
    try {
      await scope().group(name, () => (isRun = true));
      assert.unreachable(`accepted ${JSON.stringify(name)}`);
    } catch (error) {
      assert.instance(error, TypeError);
      assert.match((error as Error).message, /without '::' or control characters/);
    }
    assert.is(isRun, false);
  }
});

test('ordinary names, spaces and non-ASCII included, run', async () => {
  assert.is(await scope().group('AUTH + MAIL (big messages) – ünï', () => 7), 7);
});

test("two groups side by side (Promise.all) are refused saying to await each (the second was recorded as nested: '::a::b'); nesting still works", async () => {
  const ctx = scope();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const first = ctx.group('a', () => gate);
  const second = ctx.group('b', () => 'ran');
  await second.then(() => assert.unreachable('ran beside a'), (error: Error) => assert.match(error.message, /ctx\.group\('b'\): group '::a' is still running beside it \(not around it\)[^]*await each; no Promise\.all/));
  release();
  await first;
  assert.is(ctx.groupPath, '');
  assert.is(await ctx.group('outer', () => ctx.group('inner', () => ctx.groupPath)), '::outer::inner');
  assert.is(await ctx.group('after', () => ctx.groupPath), '::after');
});

test('ctx.vuState = {...} in one iteration is what the next iteration of the VU reads (it was lost); a non-object is refused', () => {
  const state = { id: 1, iterations: 0, session: {}, vuState: {}, recorder: { point() {}, currentAccount: undefined, intendedStartMs: 0 } };
  const first = scope(state);
  first.vuState = { count: 1 };
  first.vuState['more'] = true;
  const second = scope(state);
  assert.equal(second.vuState, { count: 1, more: true });
  second.vuState['count'] = 2;
  assert.equal(scope(state).vuState, { count: 2, more: true });
  assert.throws(() => (second.vuState = 5 as never), /ctx\.vuState must be an object \(got number\)/);
  // A VU's state is its own
  assert.equal(scope().vuState, {});
});

test.run();
