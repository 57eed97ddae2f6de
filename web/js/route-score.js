// Ruttens poäng: how much of what happens lies along a route (per km, in the route's hours),
// the corridor's hit rate (PAI) and the hot cells it passes per hour, for the route being drawn
// and, side by side, for saved routes. Computed by the server from what the role may count.
import { getJson } from './api.js';
import { T } from './strings.js';

const num = (x, d = 1) => (x === null || x === undefined ? '–' : String(Math.round(x * 10 ** d) / 10 ** d).replace('.', ','));

/** The score query for `window` (an RFC 3339 interval) of saved `ids` and a drawn `line`. */
export function scorePath(window, { ids = [], line = null, schedule = null } = {}) {
  const p = new URLSearchParams({ datetime: window });
  if (ids.length) p.set('routes', ids.join(','));
  if (line) p.set('line', JSON.stringify(line));
  if (line && schedule) {
    p.set('weekdays', schedule.weekdays.join(','));
    p.set('start_time', schedule.start);
    p.set('end_time', schedule.end);
  }
  return `/analysis/route-score?${p}`;
}

/** Asks for scores; throws the refusal as a Swedish sentence. */
export const fetchScores = (path) => getJson(path);

/** One route's score as sentences. */
export function describe(body, r) {
  const lines = [T.score.all(num(r.all.incidents, 0), num(r.all.per_km))];
  if (r.in_hours) lines.push(T.score.inHours(num(r.in_hours.incidents, 0), num(r.in_hours.per_km), num((r.in_hours_share ?? 0) * 100, 0)));
  const s = r.in_hours ?? r.all;
  lines.push(s.pai === null ? T.score.noPai : T.score.pai(num(s.pai, 2)));
  lines.push(T.score.hot(s.hot_cells_passed, num(s.hot_cells_per_hour)));
  if (!body.time_weighted) lines.push(T.score.counted);
  if (body.note) lines.push(body.note);
  return lines.join(' ');
}

/** The routes side by side, as a table. */
export function compareTable(body) {
  const table = document.createElement('table');
  table.className = 'compare';
  const head = table.createTHead().insertRow();
  for (const h of T.score.columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const tbody = table.createTBody();
  for (const r of body.routes) {
    const s = r.in_hours ?? r.all;
    const row = tbody.insertRow();
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = r.drawn ? T.score.drawn : r.name;
    row.append(name);
    for (const v of [`${num(r.length_m / 1000, 1)} km`, num(r.all.per_km), r.in_hours ? num(r.in_hours.per_km) : '–', num(s.pai, 2), num(s.hot_cells_per_hour)]) {
      row.insertCell().textContent = v;
    }
  }
  const caption = table.createCaption();
  caption.textContent = body.time_weighted ? T.score.caption : `${T.score.caption} ${T.score.counted}`;
  return table;
}
