/**
 * Urls as a log entry or stats may show them: tokens travel in a url's user and password and in
 * its query, so neither is ever shown (docs/semantics.md "Seeing into the host").
 */

/** `url` without its user and password, and `?…` in place of its query. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a url (it never reaches a host): keep only what precedes a query or a fragment.
    return url.replace(/[?#].*$/s, '?…').replace(/\/\/[^/@]*@/, '//');
  }
  const query = parsed.search === '' && !url.includes('?') ? '' : '?…';
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return `${parsed.href}${query}`;
}

/** `text` with every ws: or wss: url in it redacted (a browser's errMsg names the url). */
export const redactUrls = (text: string): string =>
  text.includes('//') ? text.replace(/\bwss?:\/\/[^\s'"]+/gi, (found) => redactUrl(found)) : text;
