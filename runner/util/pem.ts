/** Whether a PEM text holds at least one certificate (a CA file that does not is a mistake to report, not to pass to TLS). */
export function hasPemCertificate(text: string): boolean {
  return text.includes('-----BEGIN CERTIFICATE-----');
}
