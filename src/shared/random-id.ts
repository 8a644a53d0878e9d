/**
 * A random id for names that must not collide (Web Lock names): `crypto.randomUUID()` where there
 * is one; elsewhere 128 random bits in hex. An insecure context (a page on plain http:// other
 * than localhost) has `crypto.getRandomValues` but not `randomUUID`, nor Web Locks.
 */
export function randomId(): string {
  const { crypto } = globalThis;
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
