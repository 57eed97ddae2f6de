// Requests to our own server only; refusals become Swedish sentences.
import { csrf, problemText } from './auth.js';

/** GET a JSON document. */
export async function getJson(path) {
  const r = await fetch(path, { credentials: 'same-origin' });
  if (!r.ok) throw await problemText(r);
  return r.json();
}

/** POST/PUT/PATCH/DELETE with the session's CSRF token. */
export async function send(method, path, body, headers = {}) {
  const r = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { 'content-type': 'application/geo+json', 'x-csrf-token': csrf() ?? '', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw await problemText(r);
  return r.status === 204 ? null : r.json();
}
