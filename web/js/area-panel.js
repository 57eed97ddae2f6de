// The area panel: counts per category in the window against the previous equal window. Where a
// role sees counts only, what is held back shows as "–", never 0, and the panel says why.
import { T } from './strings.js';
import { $, text } from './dom.js';
import { getJson } from './api.js';
import { app } from './state.js';
import { isoDay, isoWeek } from './time.js';

/** The area panel: counts per category in the window against the previous equal window. */
export async function showArea(name) {
  if (!app.controller) return;
  // The window shown on the map (a custom range, or the last 7/30/90 days ending today), and
  // the equal window just before it, as whole days that do not overlap.
  const view = app.controller.view;
  const dayAt = (s) => new Date(`${s}T00:00:00Z`);
  const DAY = 86400000;
  const today = dayAt(isoDay(new Date()));
  const [start, end] = view.range
    ? [dayAt(view.range[0]), dayAt(view.range[1])]
    : [new Date(today - (view.days - 1) * DAY), today];
  const length = Math.round((end - start) / DAY) + 1;
  const before = new Date(start - length * DAY);
  const beforeEnd = new Date(start - DAY);
  const count = async (a, b) => {
    const fc = await getJson(`/collections/incidents/aggregate?by=area&datetime=${isoDay(a)}T00:00:00Z/${isoDay(b)}T23:59:59Z`);
    const out = { total: 0, categories: {}, heldBack: typeof fc.suppression === 'string' };
    for (const f of fc.features.filter((x) => x.properties.name === name)) {
      out.total += f.properties.count;
      for (const [c, n] of Object.entries(f.properties.categories)) out.categories[c] = (out.categories[c] ?? 0) + n;
    }
    return out;
  };
  $('area-panel').hidden = false;
  text('area-heading', T.areaHeading(name));
  const span = (a, b) => ({ from: isoDay(a), to: isoDay(b), weeks: [isoWeek(a), isoWeek(b)] });
  text('area-period', T.areaPeriod(span(start, end), span(before, beforeEnd)));
  let current; let previous;
  try {
    [current, previous] = await Promise.all([count(start, end), count(before, beforeEnd)]);
  } catch (msg) {
    text('status', String(msg));
    return;
  }
  const table = $('area-table');
  const head = document.createElement('tr');
  for (const h of T.areaColumns) { const th = document.createElement('th'); th.textContent = h; head.append(th); }
  const rows = [head];
  const cats = [...new Set([...Object.keys(current.categories), ...Object.keys(previous.categories)])];
  // Counts only: what is not shown may be 0, 1 or 2 — never print it as 0, nor a difference.
  const heldBack = current.heldBack || previous.heldBack;
  const shown = (n) => (heldBack && !n ? '–' : String(n));
  const row = (label, a, b) => {
    const tr = document.createElement('tr');
    const diff = a - b;
    const known = !heldBack || (a && b);
    const cells = [label, shown(a), shown(b), known ? (diff > 0 ? `+${diff}` : String(diff)) : '–'];
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.textContent = c;
      if (i > 0) td.className = 'num';
      if (i === 3 && known && diff !== 0) td.classList.add(diff > 0 ? 'up' : 'down');
      tr.append(td);
    });
    return tr;
  };
  for (const c of cats) rows.push(row(T.values[c] ?? c, current.categories[c] ?? 0, previous.categories[c] ?? 0));
  rows.push(row(T.areaTotal, current.total, previous.total));
  table.replaceChildren(...rows);
  text('area-held-back', heldBack ? T.areaHeldBack : '');
  if (current.total === 0 && previous.total === 0) text('area-period', heldBack ? T.areaNoneShown : T.areaNone);
}

