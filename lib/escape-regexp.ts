/** `text` as a regular expression source that matches exactly that text (metacharacters escaped). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
