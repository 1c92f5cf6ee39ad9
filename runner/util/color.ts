/**
 * Terminal colour, through node:util's styleText. Whether to colour is decided once per output
 * (shouldColor) and passed down as a boolean, so a text sink in a test gets colour when asked.
 */
import { styleText } from 'node:util';

/** A style of styleText: a colour or a modifier such as 'bold' or 'dim'. */
export type Style = Parameters<typeof styleText>[0] & string;

/** Whether to colour: only on a TTY and when NO_COLOR is unset (https://no-color.org). */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && env['NO_COLOR'] === undefined;
}

/** `text` in `style` when `isEnabled`, else as is (the caller has already asked shouldColor). */
export function paint(style: Style, text: string, isEnabled: boolean | undefined): string {
  // validateStream: false, since the caller decided; styleText would otherwise look at process.stdout.
  return isEnabled ? styleText(style, text, { validateStream: false }) : text;
}
