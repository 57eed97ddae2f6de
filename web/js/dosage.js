// Stopp vid heta celler: an evening's plan of short stops at the hot cells along a saved route
// (Koper: 10–15 minutes, random order, back within two hours), drawn on the map, and last
// week's minutes per hot cell against the plans, per organisation. Never a position trail.
import { getJson } from './api.js';
import { $, option } from './dom.js';
import { T } from './strings.js';
import { app } from './state.js';

/** Who may plan: roles that count incidents and read routes' lines. */
const mayPlan = (me) => (me.layers.incidents?.read ?? 'none') !== 'none' && me.layers.patrol_routes?.read === 'exact';
/** Who may see the weekly report: roles that also read walks exactly. */
const mayReport = (me) => mayPlan(me) && me.layers.walks?.read === 'exact';

/** Fills the route choice with the saved routes (when the panel opens). */
export function fillDosage(me, features) {
  $('plan-dosage').hidden = !mayPlan(me);
  if (!mayPlan(me)) return;
  const lines = features.filter((f) => f.geometry && f.geometry.type.endsWith('LineString') && f.properties.status === 'active');
  $('dosage-route').replaceChildren(...lines.map((f) => option(f.id, f.properties.name)));
  // The date follows the route: its next evening (today or later).
  const nextEvening = () => {
    const route = lines.find((f) => f.id === $('dosage-route').value);
    if (!route) return;
    const days = Array.isArray(route.properties.weekdays) ? route.properties.weekdays : JSON.parse(route.properties.weekdays || '[]');
    const names = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    const d = new Date();
    for (let k = 0; k < 7 && !days.includes(names[d.getDay()]); k++) d.setDate(d.getDate() + 1);
    const pad = (n) => String(n).padStart(2, '0');
    $('dosage-date').value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  };
  $('dosage-route').onchange = nextEvening;
  nextEvening();
}

/** Wires the buttons to the map controller `c`. */
export function setupDosage(me, c) {
  if (!mayPlan(me)) return;
  $('dosage-week-button').hidden = !mayReport(me);
  const map = c.map;
  map.addSource('dosage-stops', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'dosage-cells', type: 'line', source: 'dosage-stops',
    paint: { 'line-color': '#7a1fa2', 'line-width': 3 } });
  const out = $('dosage-result');
  $('dosage-plan-button').onclick = async () => {
    const route = $('dosage-route').value;
    if (!route) return;
    out.textContent = T.dosage.working;
    try {
      const p = await getJson(`/analysis/patrol-plan?route=${encodeURIComponent(route)}&date=${encodeURIComponent($('dosage-date').value)}`);
      map.getSource('dosage-stops').setData(p.stops);
      const list = document.createElement('ol');
      list.className = 'stops';
      // Each stop can be ticked as done, and is then logged with the walk on this route.
      app.dosagePlan = { route, stops: p.stops.features.map((f) => f.properties) };
      p.stops.features.forEach((f, i) => {
        const li = document.createElement('li');
        const label = document.createElement('label');
        const box = document.createElement('input');
        box.type = 'checkbox'; box.name = 'done-stop'; box.value = String(i);
        label.append(box, document.createTextNode(` ${T.dosage.stop(f.properties)}`));
        li.append(label);
        list.append(li);
      });
      const notes = [T.dosage.rule];
      if (!p.stops.features.length) notes.push(p.note ?? T.dosage.none);
      if (p.left_out.length) notes.push(T.dosage.leftOut(p.left_out.length));
      const note = document.createElement('p');
      note.className = 'note';
      note.textContent = notes.join(' ');
      out.replaceChildren(note, list);
    } catch (msg) {
      out.textContent = String(msg);
    }
  };
  $('dosage-week-button').onclick = async () => {
    out.textContent = T.dosage.working;
    try {
      const r = await getJson('/analysis/dosage');
      if (!r.organisations.length) { out.textContent = T.dosage.noWeek; return; }
      const table = document.createElement('table');
      table.className = 'compare';
      const head = table.createTHead().insertRow();
      for (const h of T.dosage.columns) {
        const th = document.createElement('th'); th.scope = 'col'; th.textContent = h; head.append(th);
      }
      const body = table.createTBody();
      for (const o of r.organisations) {
        const row = body.insertRow();
        const name = document.createElement('th'); name.scope = 'row'; name.textContent = o.organisation; row.append(name);
        const share = o.share === null ? '–' : `${Math.round(o.share * 100)} %`;
        for (const v of [o.planned_minutes, o.logged_minutes, share]) row.insertCell().textContent = String(v);
      }
      table.createCaption().textContent = T.dosage.weekCaption(r.week);
      out.replaceChildren(table);
    } catch (msg) {
      out.textContent = String(msg);
    }
  };
}
