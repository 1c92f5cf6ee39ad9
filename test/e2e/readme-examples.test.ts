/**
 * The README's "Using it like the old script" examples run as pasted against the fake proxy
 * (`--with-fixture` added, which also stands in for the address of the third): each exits 0
 * and the fake proxy received every message. The old guide's own examples did not (their real
 * recipient asked for --allow-real-recipients: exit 2; their unknown sender: exit 110).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir } from '../helpers.ts';
import { ROOT, runCli } from '../cli-process.ts';

/** The shell lines of the first bash block after `heading` in the README. */
function examplesUnder(heading: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const block = /```bash\n([\s\S]*?)```/.exec(section)![1]!;
  return block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

const examples = suite('README examples');

examples('"Using it like the old script": each runs as pasted against the fake proxy', async () => {
  const lines = examplesUnder('## Using it like the old script');
  assert.is(lines.length, 4);
  const temp = createTempDir();
  try {
    for (const line of lines) {
      const words = line.split(/\s+/);
      assert.equal(words.slice(0, 2), ['npx', 'runner']);
      const ran = await runCli([...words.slice(2), '--with-fixture', '--no-out'], { cwd: temp.dir });
      assert.is(ran.code, 0, `${line}\n${ran.stdout}${ran.stderr}`);
      const emails = Number(/--num-emails (\d+)/.exec(line)![1]);
      assert.match(ran.stdout, `Fake proxy received: ${emails} messages`);
    }
  } finally {
    temp.remove();
  }
});

examples.run();
