/**
 * Every form in which a secret could leak into an output: the password and token themselves,
 * their base64 in any alignment, and the whole AUTH PLAIN and XOAUTH2 payloads.
 */
import { base64Forms } from '../runner/redact.ts';
import { authInitialLine, xoauth2Payload } from '../runner/smtp/auth.ts';

/** The strings no output may contain for this user, password and token. */
export function leakForms(user: string, password: string, token: string): string[] {
  return [
    password,
    token,
    ...base64Forms(password),
    ...base64Forms(token),
    authInitialLine('plain', user, password).trim().split(' ')[2]!,
    xoauth2Payload(user, token),
    Buffer.from(password).toString('base64'),
    Buffer.from(token).toString('base64'),
  ];
}
