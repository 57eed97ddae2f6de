// Signing in and out against /auth/*; the session cookie is HttpOnly, so the page only keeps
// the CSRF token (in memory) that writes must send.
import { T } from './strings.js';

let csrfToken = null;

/** The CSRF token of the current session, for writes. */
export function csrf() {
  return csrfToken;
}

/** The signed-in caller, or null. */
export async function currentSession() {
  const r = await fetch('/auth/session', { credentials: 'same-origin' });
  if (!r.ok) throw await problemText(r);
  const me = await r.json();
  if (!me.signedIn) return null;
  csrfToken = me.csrfToken;
  return me;
}

/** Signs in; resolves to the caller or rejects with a Swedish message. */
export async function login(username, password) {
  let r;
  try {
    r = await fetch('/auth/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
  } catch {
    throw T.errors.network;
  }
  if (!r.ok) throw await problemText(r);
  const me = await r.json();
  csrfToken = me.csrfToken;
  return me;
}

/** Signs out. */
export async function logout() {
  await fetch('/auth/logout', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'x-csrf-token': csrfToken ?? '' },
  });
  csrfToken = null;
}

/** Why a field was refused, in Swedish, from the server's words. */
function fieldReason(message) {
  if (/personal identity number/.test(message)) return T.errors.pii;
  if (/phone number/.test(message)) return T.errors.phone;
  if (/characters long/.test(message)) return T.errors.tooLong;
  if (/must not be empty|is missing/.test(message)) return T.errors.missing;
  return T.errors.invalidValue;
}

/** A server refusal (RFC 9457 problem body) as a Swedish sentence, with the server's own
 *  words after it for the record. */
export async function problemText(r) {
  let p = {};
  try { p = await r.json(); } catch { /* not a problem body */ }
  const type = (p.type || '').replace('urn:lagesbild:problem:', '');
  const detail = p.detail || r.statusText;
  if (type === 'login-throttled') return T.errors.throttled(r.headers.get('retry-after') || '30');
  if (type === 'unauthenticated' && /disabled/.test(detail)) return T.errors.disabled;
  if (type === 'unauthenticated' && r.url.endsWith('/auth/login')) return T.errors.badCredentials;
  if (type === 'unauthenticated') return T.errors.signedOut;
  if (type === 'invalid-input' && r.url.endsWith('/auth/login')) return T.errors.missingFields;
  if (type === 'invalid-input' && Array.isArray(p.errors) && p.errors.length) {
    const parts = p.errors.map((e) => {
      const field = (e.pointer || '').split('/').pop();
      return `${T.fields[field] ?? field}: ${fieldReason(e.detail || '')}`;
    });
    return `${T.errors.invalid} ${parts.join(' ')} (${detail})`;
  }
  const known = {
    forbidden: T.errors.forbidden,
    'not-found': T.errors.notFound,
    'version-conflict': T.errors.conflict,
    'duplicate-id': T.errors.conflict,
    'body-too-large': T.errors.tooLarge,
    internal: T.errors.internal,
  };
  if (known[type]) return `${known[type]} (${detail})`;
  return T.errors.other(r.status, detail);
}
