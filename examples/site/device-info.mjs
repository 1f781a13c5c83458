// What the example site tells the worker about a device, made to fit the worker's rules
// (src/core/record.rs): lengths are counted in UTF-8 bytes, and control or invisible
// formatting characters are refused. Trimming here means a long or odd user agent or
// device name never makes a login fail.

export const USER_AGENT_MAX_BYTES = 512;
export const LABEL_MAX_BYTES = 128;

// Control characters, and the invisible and direction-changing ones the worker refuses
// (the same set as `is_disallowed_in_metadata`).
const DISALLOWED = /[\p{Cc}\u00AD\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF\uFFF9-\uFFFB]/gu;

/** `text` without disallowed characters, cut to at most `maxBytes` UTF-8 bytes on a character boundary. */
export function fitMetadata(text, maxBytes) {
  const clean = String(text ?? "")
    .replace(DISALLOWED, "")
    .trim();
  const encoder = new TextEncoder();
  if (encoder.encode(clean).length <= maxBytes) return clean;
  let out = "";
  let bytes = 0;
  for (const ch of clean) {
    const size = encoder.encode(ch).length;
    if (bytes + size > maxBytes) break;
    out += ch;
    bytes += size;
  }
  return out;
}
