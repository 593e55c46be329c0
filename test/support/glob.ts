/** A pattern where `*` stands for any characters and everything else for itself, as a whole-string match. */
export function globRegExp(pattern: string): RegExp {
  const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`);
}
