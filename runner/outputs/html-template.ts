/**
 * The HTML report's escaping helpers (its stylesheet and chart script are files in
 * report-assets/, see report-assets.ts). Every string from a results file reaches the page
 * through `html` (which escapes each interpolated value) or `jsonForScript` (which cannot close
 * its <script> element), so an account named `<script>…` shows as text and never runs.
 */

/** Markup that is already safe to insert as is (built by `html`, or trusted assets). */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/**
 * Tagged template for markup: each interpolated value is escaped unless it is SafeHtml; arrays
 * are joined (each item escaped the same way); null, undefined and false render nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += renderValue(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

function renderValue(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(renderValue).join('');
  return escapeHtml(String(value));
}

/**
 * JSON for a <script type="application/json"> element: `<`, `>` and `&` become \u escapes so no
 * value can end the element (`</script>`) or open a comment; JSON.parse reads them back unchanged.
 */
export function jsonForScript(value: unknown): SafeHtml {
  const json = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return new SafeHtml(json);
}

/**
 * Text inlined into a <script> or <style> element must not contain its closing tag; our
 * assets never do, and this makes sure a future version of them cannot break the page.
 */
export function inlineAsset(text: string, element: 'script' | 'style', name: string): SafeHtml {
  if (new RegExp(`</${element}`, 'i').test(text)) throw new Error(`${name} contains </${element}> and cannot be inlined`);
  return new SafeHtml(text);
}
