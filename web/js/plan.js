// Planering: draw a night-walk route on the map, see its length, walking time and what lies
// within 100 m of it, save it with weekdays and hours, and log a walk done on a route.
import { getJson, send } from './api.js';
import { T } from './strings.js';
import { describe, fetchScores, scorePath } from './route-score.js';

const WALKING_KMH = 4.5;
const COVER_M = 100;

/** Metres along a line of [lon, lat] positions (haversine). */
export function lengthM(coords) {
  const R = 6371008.8;
  let m = 0;
  for (let i = 1; i < coords.length; i++) {
    const [a, b] = [coords[i - 1], coords[i]];
    const dLat = ((b[1] - a[1]) * Math.PI) / 180;
    const dLon = ((b[0] - a[0]) * Math.PI) / 180;
    const h = Math.sin(dLat / 2) ** 2
      + Math.cos((a[1] * Math.PI) / 180) * Math.cos((b[1] * Math.PI) / 180) * Math.sin(dLon / 2) ** 2;
    m += 2 * R * Math.asin(Math.sqrt(h));
  }
  return m;
}

/** Wires the planning panel to the map controller `c`. */
export function setupPlan(c, me, el) {
  const map = c.map;
  let coords = [];
  let drawing = false;
  let editing = null; // { id, version } of the route being changed, or null for a new one
  map.addSource('plan', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'plan-line', type: 'line', source: 'plan', filter: ['==', ['geometry-type'], 'LineString'],
    paint: { 'line-color': '#0b4f8a', 'line-width': 4, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: 'plan-points', type: 'circle', source: 'plan', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 5, 'circle-color': '#fff', 'circle-stroke-color': '#0b4f8a', 'circle-stroke-width': 2 } });

  const redraw = () => {
    const features = coords.map((p) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: p }, properties: {} }));
    if (coords.length > 1) features.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: coords }, properties: {} });
    map.getSource('plan').setData({ type: 'FeatureCollection', features });
    const m = lengthM(coords);
    el.length.textContent = coords.length > 1 ? T.plan.length(Math.round(m), Math.round((m / 1000 / WALKING_KMH) * 60)) : T.plan.howTo;
  };

  async function coverage() {
    if (coords.length < 2) { el.coverage.textContent = ''; return; }
    const line = encodeURIComponent(JSON.stringify({ type: 'LineString', coordinates: coords }));
    const parts = [];
    try {
      if (c.grant('risk_environments') === 'exact' || c.grant('risk_environments') === 'coarse') {
        const r = await getJson(`/collections/risk_environments/items?intersects=${line}&distance=${COVER_M}&limit=10000`);
        const levels = {};
        r.features.forEach((f) => { const l = f.properties.level ?? 'okänd'; levels[l] = (levels[l] ?? 0) + 1; });
        parts.push(T.plan.risk(r.numberMatched, Object.entries(levels).map(([l, n]) => `${T.values[l] ?? l}: ${n}`).join(', ')));
      }
      if (c.grant('incidents') === 'exact' || c.grant('incidents') === 'coarse') {
        const when = encodeURIComponent(c.windowParam());
        const r = await getJson(`/collections/incidents/items?intersects=${line}&distance=${COVER_M}&datetime=${when}&limit=1`);
        parts.push(T.plan.incidents(r.numberMatched, c.view.days));
      }
    } catch (msg) {
      parts.push(String(msg));
    }
    el.coverage.textContent = parts.join(' ');
  }

  // The drawn route's score, for the days and hours in the form (latest answer wins).
  let asked = 0;
  async function score() {
    const mine = ++asked;
    if (coords.length < 2 || (c.grant('incidents') ?? 'none') === 'none') { el.score.textContent = ''; return; }
    const data = new FormData(el.form);
    const weekdays = data.getAll('weekday');
    const schedule = weekdays.length && data.get('start') && data.get('end')
      ? { weekdays, start: String(data.get('start')), end: String(data.get('end')) } : null;
    el.score.textContent = T.score.working;
    let text;
    try {
      const body = await fetchScores(scorePath(c.windowParam(), { line: { type: 'LineString', coordinates: coords }, schedule }));
      text = `${T.score.heading}: ${describe(body, body.routes[0])}`;
    } catch (msg) {
      text = String(msg);
    }
    if (mine === asked) el.score.textContent = text;
  }
  // A suggested route over the imported paths, from the drawn route's start and as long.
  map.addSource('plan-suggestion', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({ id: 'plan-suggestion-line', type: 'line', source: 'plan-suggestion',
    paint: { 'line-color': '#b35900', 'line-width': 4, 'line-opacity': 0.85 } });
  let suggested = null;
  const clearSuggestion = () => {
    suggested = null;
    map.getSource('plan-suggestion').setData({ type: 'FeatureCollection', features: [] });
    el.suggestion.textContent = '';
    el.useSuggestion.hidden = true;
  };
  el.suggest.addEventListener('click', async () => {
    if (coords.length < 2) { el.suggestion.textContent = T.suggest.needLine; return; }
    const p = new URLSearchParams({ line: JSON.stringify({ type: 'LineString', coordinates: coords }) });
    const data = new FormData(el.form);
    const weekdays = data.getAll('weekday');
    if (weekdays.length && data.get('start') && data.get('end')) {
      p.set('weekdays', weekdays.join(',')); p.set('start_time', String(data.get('start'))); p.set('end_time', String(data.get('end')));
    }
    el.suggestion.textContent = T.suggest.working;
    try {
      const s = await getJson(`/analysis/route-suggestion?${p}`);
      suggested = s.suggested.geometry.coordinates;
      map.getSource('plan-suggestion').setData({ type: 'FeatureCollection', features: [s.suggested] });
      el.suggestion.textContent = T.suggest.result(s);
      el.useSuggestion.hidden = false;
    } catch (msg) {
      el.suggestion.textContent = String(msg);
    }
  });
  el.useSuggestion.addEventListener('click', () => {
    if (!suggested) return;
    coords = suggested.map((c) => [...c]);
    clearSuggestion();
    redraw();
    changed();
  });
  const changed = () => { coverage(); score(); };
  el.form.addEventListener('change', (e) => { if (e.target.name !== 'name' && e.target.name !== 'description') score(); });
  c.onWindow(() => { if (coords.length > 1) changed(); });

  c.onMapClick((lngLat) => {
    if (!drawing) return false;
    coords.push([lngLat.lng, lngLat.lat]);
    redraw();
    changed();
    return true;
  });

  el.draw.addEventListener('click', () => {
    drawing = !drawing;
    el.draw.textContent = drawing ? T.plan.stopDrawing : T.plan.draw;
    map.getCanvas().style.cursor = drawing ? 'crosshair' : '';
  });
  el.undo.addEventListener('click', () => { coords.pop(); redraw(); changed(); });
  el.clear.addEventListener('click', () => { coords = []; editing = null; el.form.reset(); clearSuggestion(); redraw(); changed(); });

  // Editing a saved route: its line comes into the drawing, its fields into the form.
  async function editableRoutes() {
    const grant = me.layers.patrol_routes?.edit ?? 'none';
    const data = await map.getSource('patrol_routes').getData();
    return data.features.filter((f) => f.geometry?.type === 'LineString'
      && (grant === 'all' || (grant === 'own' && f.properties.organisation === me.organisation)));
  }
  el.editSelect.addEventListener('focus', async () => {
    const routes = await editableRoutes();
    const first = document.createElement('option');
    first.value = ''; first.textContent = T.plan.newRoute;
    el.editSelect.replaceChildren(first, ...routes.map((f) => {
      const o = document.createElement('option');
      o.value = f.id; o.textContent = f.properties.name;
      return o;
    }));
  });
  el.editSelect.addEventListener('change', async () => {
    const route = (await editableRoutes()).find((f) => f.id === el.editSelect.value);
    if (!route) { editing = null; return; }
    editing = { id: route.id, version: route.properties.version };
    coords = route.geometry.coordinates.map((c) => [...c]);
    const f = el.form.elements;
    f.name.value = route.properties.name;
    f.kind.value = route.properties.kind;
    f.start.value = route.properties.start_time;
    f.end.value = route.properties.end_time;
    f.description.value = route.properties.description ?? '';
    const days = Array.isArray(route.properties.weekdays) ? route.properties.weekdays : JSON.parse(route.properties.weekdays || '[]');
    for (const box of el.form.querySelectorAll('input[name="weekday"]')) box.checked = days.includes(box.value);
    redraw();
    changed();
  });

  el.form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (coords.length < 2) { el.result.textContent = T.plan.needLine; return; }
    const data = new FormData(el.form);
    const feature = {
      type: 'Feature',
      geometry: { type: 'LineString', coordinates: coords },
      properties: {
        name: String(data.get('name') || ''),
        kind: data.get('kind'),
        weekdays: data.getAll('weekday'),
        start_time: data.get('start'),
        end_time: data.get('end'),
        description: String(data.get('description') || ''),
      },
    };
    try {
      if (editing) {
        await send('PUT', `/collections/patrol_routes/items/${editing.id}`, feature, { 'if-match': `"${editing.version}"` });
        editing = null;
        el.editSelect.value = '';
      } else {
        await send('POST', '/collections/patrol_routes/items', feature);
      }
      el.result.textContent = T.plan.saved(feature.properties.name);
      el.result.className = 'note sent';
      coords = [];
      redraw();
      el.coverage.textContent = '';
      el.score.textContent = '';
    } catch (msg) {
      el.result.textContent = T.plan.refused(String(msg));
      el.result.className = 'note failed';
    }
  });
  redraw();
}
