/** Recipients rcpt1@example.com … rcptN@example.com. */
export function recipients(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `rcpt${index + 1}@example.com`);
}
