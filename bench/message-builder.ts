/**
 * What a message costs to build per send (issue 16): the plain generated message (a head string;
 * its body is one shared Buffer) against a buildMessage() template with one 100 KiB attachment,
 * rendered in the form the session writes (renderWire(): per-message strings and the attachments'
 * cached Buffers, written with one corked writev; the kernel's copy of the bytes is not counted,
 * for either). CPU time per message, in microseconds, on this machine; the ratio is what to read.
 *
 *   npm run bench:builder            (node --import tsx bench/message-builder.ts [messages])
 */
import { buildHead, traceHeaderLine } from '../runner/smtp/message.ts';
import { buildMessage } from '../runner/smtp/builder.ts';

const messages = Number(process.argv[2] ?? 20_000);
const to = ['recipient@example.net'];

const template = buildMessage({
  subject: 'Invoice {{seq}} for {{name}}',
  text: 'Hello {{name}},\n\nyour invoice {{seq}} is attached.\n',
  html: '<p>Hello <b>{{name}}</b>,</p><p>your invoice {{seq}} is attached.</p>',
  headers: { 'X-Campaign': 'q4' },
  attachments: [{ filename: 'invoice.pdf', contentType: 'application/pdf', size: '100k' }],
});
const vars = { name: 'Ana' };

function cpuMicros(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

let sink = 0;
const plain = (): void => {
  for (let seq = 1; seq <= messages; seq++) {
    const head = buildHead({ from: 'sender@example.com', to, sequence: seq, traceSequence: seq });
    sink += Buffer.byteLength(head);
  }
};
const templated = (): void => {
  for (let seq = 1; seq <= messages; seq++) {
    // What the session does: the chunks (attachments are cached Buffers), the trace line above the first
    const wire = template.renderWire({ from: 'sender@example.com', to, vu: 1, iteration: seq, seq, vars });
    sink += wire.bytes + Buffer.from(traceHeaderLine('bench', seq) + (wire.chunks[0] as string)).length;
  }
};

// Warm up both, then measure
cpuMicros(plain);
cpuMicros(templated);
const plainUs = cpuMicros(plain) / messages;
const templatedUs = cpuMicros(templated) / messages;
const bytes = Buffer.byteLength(template.render({ from: 'sender@example.com', to, vu: 1, iteration: 0, seq: 1, vars }));
console.log(`messages: ${messages} each`);
console.log(`plain generated message (head only; the body is a shared Buffer): ${plainUs.toFixed(2)} µs CPU per message`);
console.log(`template + one 100 KiB attachment (${bytes} bytes): ${templatedUs.toFixed(2)} µs CPU per message`);
console.log(`ratio: ${(templatedUs / plainUs).toFixed(1)}×  (${sink > 0 ? 'ok' : ''})`);
