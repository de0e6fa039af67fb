/** Quoting user input in messages: long values cut, so a message stays a line. */

/** Text cut for a message: at most `max` characters (then '…'), control characters as spaces. */
export function clip(raw: string, max = 60): string {
  const flat = raw.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`;
}

/** A value quoted for a message: at most `max` characters, a longer one cut with its length said. */
export function quote(raw: string, max = 60): string {
  return raw.length <= max ? `"${clip(raw, max)}"` : `"${clip(raw, max)}" (${raw.length} characters)`;
}
