// The part of mailparser's API the tests use (the package ships no types).
declare module 'mailparser' {
  export interface ParsedAttachment {
    filename?: string;
    contentType: string;
    content: Buffer;
    size: number;
  }
  export interface ParsedMail {
    subject?: string;
    text?: string;
    html?: string | false;
    messageId?: string;
    date?: Date;
    headers: Map<string, unknown>;
    attachments: ParsedAttachment[];
    from?: { text: string };
    to?: { text: string } | Array<{ text: string }>;
  }
  export function simpleParser(source: string | Buffer): Promise<ParsedMail>;
}
