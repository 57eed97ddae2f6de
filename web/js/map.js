// The picture: a MapLibre map of the layers the signed-in role may see, drawn from our own
// server only (no basemap tiles from elsewhere: the base is the area outlines of geodata/).
import * as maplibregl from '../vendor/maplibre-gl/maplibre-gl.mjs';
import { getJson } from './api.js';
import { T } from './strings.js';

const LAYERS = ['incidents', 'risk_environments', 'cameras', 'patrol_routes', 'measures', 'areas'];
const TIMED = new Set(['incidents']);

/** The view kept in the URL: days, hidden layers (map position is MapLibre's `karta`). */
export function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const days = Number(p.get('dagar'));
  const list = (k) => new Set((p.get(k) || '').split(',').filter(Boolean));
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const from = p.get('från');
  const to = p.get('till');
  return {
    days: [7, 30, 90].includes(days) ? days : 30,
    range: from && to && day.test(from) && day.test(to) && from <= to ? [from, to] : null,
    hidden: list('dolda'),
    categories: list('kategori'),
    organisations: list('org'),
    statuses: list('status'),
  };
}

function writeHash(view) {
  const p = new URLSearchParams(location.hash.slice(1));
  p.set('dagar', String(view.days));
  if (view.range) { p.set('från', view.range[0]); p.set('till', view.range[1]); } else { p.delete('från'); p.delete('till'); }
  for (const [key, set] of [['dolda', view.hidden], ['kategori', view.categories], ['org', view.organisations], ['status', view.statuses]]) {
    if (set.size) p.set(key, [...set].join(','));
    else p.delete(key);
  }
  history.replaceState(null, '', '#' + p.toString().replaceAll('%2F', '/'));
}

function match(property, colors, fallback) {
  const m = ['match', ['get', property]];
  for (const [k, v] of Object.entries(colors)) m.push(k, v);
  m.push(fallback);
  return m;
}

/** Times in Swedish form; everything else as text. */
function formatValue(v) {
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)) {
    return new Date(v).toLocaleString('sv-SE', { dateStyle: 'short', timeStyle: 'short' });
  }
  return String(v);
}

/** A label position: the middle of the outer ring's bounding box. */
function centre(g) {
  const ring = g.type === 'Polygon' ? g.coordinates[0] : g.coordinates[0][0];
  const xs = ring.map((c) => c[0]);
  const ys = ring.map((c) => c[1]);
  return [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
}

/** The OGC datetime of the view: a custom range (whole days) or the last N days. */
function windowParam(view) {
  if (view.range) return `${view.range[0]}T00:00:00Z/${view.range[1]}T23:59:59Z`;
  const start = new Date(Date.now() - view.days * 86400000);
  return `${start.toISOString().slice(0, 10)}/..`;
}

const EMPTY = { type: 'FeatureCollection', features: [] };

/**
 * The server's basemap (`GET /basemap`: a PMTiles archive read with range requests, or MBTiles
 * tiles), drawn with the shipped style under everything else, its attribution on the map.
 * Nothing happens when the server has none, or a municipality's own style is configured.
 */
async function addBasemap(map, config, onStatus) {
  if (config.basemap?.type === 'style') return;
  let about;
  try {
    about = await getJson('/basemap');
  } catch {
    return;
  }
  try {
    await drawBasemap(map, about);
  } catch (e) {
    // The map goes on without its base, and says so.
    onStatus(T.basemapMissing(String(e)));
  }
}

async function drawBasemap(map, about) {
  const style = await getJson('/web/basemap-style.json');
  let attribution = about.attribution ?? '';
  if (about.format === 'pmtiles' && globalThis.pmtiles) {
    const protocol = new globalThis.pmtiles.Protocol();
    maplibregl.addProtocol('pmtiles', protocol.tile);
    const url = `${location.origin}${about.url}`;
    const archive = new globalThis.pmtiles.PMTiles(url);
    protocol.add(archive);
    const [header, meta] = await Promise.all([archive.getHeader(), archive.getMetadata().catch(() => ({}))]);
    attribution = meta?.attribution ?? attribution;
    map.addSource('basemap-vector', { type: 'vector', url: `pmtiles://${url}`, attribution });
    about.minzoom = header.minZoom;
    about.maxzoom = header.maxZoom;
  } else if (about.format === 'mbtiles') {
    map.addSource('basemap-vector', { type: 'vector', tiles: about.tiles.map((t) => location.origin + t),
      minzoom: about.minzoom, maxzoom: about.maxzoom, attribution });
  } else {
    return;
  }
  for (const layer of style.layers) map.addLayer({ ...layer, source: 'basemap-vector' });
  map.addControl(new maplibregl.AttributionControl({ compact: false }), 'bottom-right');
}

/** The fonts labels are drawn in (see `font-faces` in the style). */
const LABEL_FONT = 'DejaVu Sans';
const LABEL_FONT_BOLD = 'DejaVu Sans Bold';

/**
 * Coarse incidents (cell centres, one per incident) as the 250 m cells they stand for, each with
 * how many: drawn as squares, so nobody reads a cell centre as a place. The square is the cell
 * of SWEREF 99 TM (the server's grid) to within a metre: the cell's size around its centre,
 * turned by the grid's meridian convergence at that place (central meridian 15° E).
 */
export function coarseCells(fc, valueLabels = {}) {
  const byCell = new Map();
  for (const f of fc.features) {
    if (f.geometry?.type !== 'Point') continue;
    const [lon, lat] = f.geometry.coordinates;
    const key = `${lon.toFixed(6)},${lat.toFixed(6)}`;
    const cell = byCell.get(key) ?? { lon, lat, size: f.properties?.cell_m ?? 250, count: 0, categories: {} };
    cell.count += 1;
    const c = f.properties?.category;
    if (c) cell.categories[c] = (cell.categories[c] ?? 0) + 1;
    byCell.set(key, cell);
  }
  const features = [...byCell.values()].map((c) => {
    const rad = Math.PI / 180;
    const gamma = (c.lon - 15) * rad * Math.sin(c.lat * rad);
    const h = c.size / 2;
    const corner = (dx, dy) => {
      // Grid east/north turned by the convergence into true east/north, then to degrees.
      const e = dx * Math.cos(gamma) + dy * Math.sin(gamma);
      const n = -dx * Math.sin(gamma) + dy * Math.cos(gamma);
      // Metres per degree at this latitude (WGS 84).
      const phi = c.lat * rad;
      const perLat = 111132.92 - 559.82 * Math.cos(2 * phi) + 1.175 * Math.cos(4 * phi);
      const perLon = 111412.84 * Math.cos(phi) - 93.5 * Math.cos(3 * phi);
      return [c.lon + e / perLon, c.lat + n / perLat];
    };
    const ring = [corner(-h, -h), corner(h, -h), corner(h, h), corner(-h, h), corner(-h, -h)];
    const ranked = Object.entries(c.categories).sort((a, b) => b[1] - a[1]);
    return {
      type: 'Feature',
      geometry: { type: 'Polygon', coordinates: [ring] },
      properties: {
        count: c.count,
        category: ranked[0]?.[0] ?? null,
        categories: ranked.map(([k, n]) => `${valueLabels[k] ?? k} ${n}`).join(', '),
        cell_m: c.size,
      },
    };
  });
  return { type: 'FeatureCollection', features };
}

/** Builds the map in `container` for the caller `me`; returns a controller. */
export async function createMap(container, me, onStatus, onArea) {
  const [symbols, config] = await Promise.all([getJson('/web/symbols.json'), getJson('/web/config.json')]);
  const view = readHash();
  // Read before MapLibre writes its own position into the URL.
  const hadPosition = new URLSearchParams(location.hash.slice(1)).has('karta');
  let areas = EMPTY;
  const grant = (layer) => me.layers[layer]?.read ?? 'none';

  const map = new maplibregl.Map({
    container,
    hash: 'karta',
    center: [17.78, 59.22],
    zoom: 11,
    attributionControl: false,
    locale: T.mapLocale,
    // A municipality's own vector style (web/config.json) or the offline base.
    style: config.basemap?.type === 'style' && config.basemap.url ? config.basemap.url : {
      version: 8,
      // Labels are drawn by MapLibre from the server's own font (the briefings' DejaVu Sans,
      // rendered in the browser): no glyph server, nothing from another host.
      'font-faces': { [LABEL_FONT]: '/fonts/DejaVuSans.ttf', [LABEL_FONT_BOLD]: '/fonts/DejaVuSans-Bold.ttf' },
      sources: {},
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': symbols.background } }],
    },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: true }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  await new Promise((resolve) => map.once('load', resolve));

  const fitTo = (fc) => {
    const cs = fc.features.flatMap((f) => (f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates.flat(1)));
    const xs = cs.map((c) => c[0]);
    const ys = cs.map((c) => c[1]);
    map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 40, duration: 0 });
  };
  const s = symbols;
  const add = (id, source, def) => map.addLayer({ id, source, ...def });
  // A municipality's own basemap (raster tiles), when configured in web/config.json.
  const base = config.basemap;
  if (base && base.type === 'xyz' && Array.isArray(base.tiles)) {
    map.addSource('basemap', { type: 'raster', tiles: base.tiles, tileSize: base.tileSize ?? 256,
      attribution: base.attribution ?? '' });
    add('basemap', 'basemap', { type: 'raster' });
  }
  await addBasemap(map, config, onStatus);
  for (const id of ['since', 'areas', 'area-labels', 'incidents-cells', 'incidents', 'incidents-density', 'zones', 'incidents-agg', 'incidents-agg-area', 'risk_environments', 'cameras', 'camera-sectors', 'patrol_routes', 'measures', 'coverage-gaps', 'camera-sites']) {
    map.addSource(id, { type: 'geojson', data: EMPTY });
  }
  add('areas-fill', 'areas', { type: 'fill', paint: {
    'fill-color': match('police_classification', s.areas.fill, s.areas.fill.none),
    'fill-opacity': s.areas.fillOpacity } });
  add('areas-line', 'areas', { type: 'line', paint: { 'line-color': s.areas.outline, 'line-width': 1.5 } });
  // Counts-only roles: areas shaded by their count (k-anonymous, so sparse cells are often
  // held back and the areas carry the picture), the published 250 m cells on top.
  add('incidents-agg-area', 'incidents-agg-area', { type: 'fill', paint: {
    'fill-color': s.aggregate.color,
    'fill-opacity': ['interpolate', ['linear'], ['get', 'count'], 3, 0.12, 100, 0.5] } });
  add('incidents-agg', 'incidents-agg', { type: 'fill', paint: {
    'fill-color': s.aggregate.color,
    'fill-opacity': ['interpolate', ['linear'], ['get', 'count'], 3, 0.35, 50, 0.9],
    'fill-outline-color': '#7a2a00' } });
  // A camera past its register's review date fades like a stale risk environment.
  const staleCamera = ['==', ['get', 'stale'], true];
  // Each camera's view in zones by image detail (IEC 62676-4, from the server): the zones nest,
  // so the finer the detail the more of them lie on top of each other and the darker it is.
  add('camera-sectors', 'camera-sectors', { type: 'fill', paint: {
    'fill-color': match('status', s.cameras.colors, '#999999'),
    'fill-opacity': ['case', staleCamera, s.cameras.sectorOpacity / 6, s.cameras.sectorOpacity / 2] } });
  add('cameras', 'cameras', { type: 'circle', paint: {
    'circle-radius': 4, 'circle-color': match('status', s.cameras.colors, '#999999'),
    'circle-opacity': ['case', staleCamera, s.risk_environments.stale.opacity, 1],
    'circle-stroke-color': ['case', staleCamera, s.risk_environments.stale.stroke, '#fff'],
    'circle-stroke-width': ['case', staleCamera, 2, 1] } });
  add('patrol_routes', 'patrol_routes', { type: 'line', layout: { 'line-cap': 'round' }, paint: {
    'line-color': match('kind', s.patrol_routes.colors, '#009E73'), 'line-width': s.patrol_routes.width } });
  // Measures: their area shaded, points as rings coloured by status.
  add('measures-fill', 'measures', { type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: {
    'fill-color': match('status', s.measures.colors, '#999999'), 'fill-opacity': 0.2 } });
  add('measures', 'measures', { type: 'circle', filter: ['==', ['geometry-type'], 'Point'], paint: {
    'circle-radius': s.measures.radius, 'circle-color': 'rgba(0,0,0,0)',
    'circle-stroke-color': match('status', s.measures.colors, '#999999'), 'circle-stroke-width': 3 } });
  // The coverage report: hot cells the cameras see least (dashed), sites for the next cameras.
  add('coverage-gaps', 'coverage-gaps', { type: 'line', paint: {
    'line-color': '#882255', 'line-width': 2.5, 'line-dasharray': [2, 1] } });
  add('camera-sites', 'camera-sites', { type: 'circle', paint: {
    'circle-radius': 8, 'circle-color': '#FFFFFF', 'circle-opacity': 0.9,
    'circle-stroke-color': '#882255', 'circle-stroke-width': 3 } });
  add('risk_environments', 'risk_environments', { type: 'circle', paint: {
    'circle-radius': s.risk_environments.radius,
    'circle-color': match('level', s.risk_environments.colors, '#E69F00'),
    'circle-opacity': ['case', ['==', ['get', 'stale'], true], s.risk_environments.stale.opacity, 0.9],
    'circle-stroke-color': ['case', ['==', ['get', 'stale'], true], s.risk_environments.stale.stroke, '#000'],
    'circle-stroke-width': ['case', ['==', ['get', 'stale'], true], 2.5, 1] } });
  // Zoomed out, incidents are an overview computed on the server (metres, not pixels: the same
  // at every zoom and on paper) by the method that did best in the back-test — kernel density,
  // counts per cell or Gi* — each cell's `share` of the highest; zoomed in, points by category.
  add('incidents-density', 'incidents-density', { type: 'fill', maxzoom: 14, paint: {
    'fill-color': ['interpolate', ['linear'], ['get', 'share'],
      0, 'rgba(255,255,255,0)', 0.05, '#fde0c5', 0.3, '#E69F00', 0.6, '#D55E00', 1, '#7a2a00'],
    'fill-opacity': ['interpolate', ['linear'], ['zoom'], 12, 0.75, 14, 0] } });
  // Near-repeat zones: raised risk after a shooting or an explosion (dashed, on top).
  add('zones-fill', 'zones', { type: 'fill', paint: { 'fill-color': '#CC0000', 'fill-opacity': 0.08 } });
  add('zones', 'zones', { type: 'line', paint: { 'line-color': '#CC0000', 'line-width': 2, 'line-dasharray': [2, 1.5] } });
  add('since', 'since', { type: 'circle', paint: {
    'circle-radius': s.incidents.radius + 5, 'circle-color': 'rgba(0,0,0,0)',
    'circle-stroke-width': 3,
    'circle-stroke-color': ['match', ['get', 'change'], 'new', '#0072B2', 'closed', '#555555', '#CC79A7'] } });
  // Coarse roles: the cells their incidents are in, shaded by how many, the count written in.
  add('incidents-cells', 'incidents-cells', { type: 'fill', paint: {
    'fill-color': match('category', s.incidents.colors, '#999999'),
    'fill-opacity': ['interpolate', ['linear'], ['get', 'count'], 1, 0.35, 20, 0.8],
    'fill-outline-color': '#333333' } });
  add('incidents-cell-counts', 'incidents-cells', { type: 'symbol', minzoom: 12, layout: {
    'text-field': ['to-string', ['get', 'count']], 'text-font': [LABEL_FONT_BOLD], 'text-size': 12,
    'text-allow-overlap': true }, paint: { 'text-color': '#111111', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 } });
  add('incidents', 'incidents', { type: 'circle', minzoom: 11.5, paint: {
    'circle-radius': s.incidents.radius,
    'circle-color': match('category', s.incidents.colors, '#999999'),
    'circle-stroke-color': s.incidents.stroke, 'circle-stroke-width': 1 } });

  // Area names, drawn by MapLibre (symbol layer, collision-checked), on top of everything.
  add('area-names', 'area-labels', { type: 'symbol', layout: {
    'text-field': ['get', 'name'], 'text-font': [LABEL_FONT_BOLD], 'text-size': 13,
    'text-max-width': 10 }, paint: { 'text-color': '#222222', 'text-halo-color': '#ffffff', 'text-halo-width': 2 } });

  const styleLayers = {
    incidents: ['incidents', 'incidents-cells', 'incidents-cell-counts', 'incidents-density', 'incidents-agg', 'incidents-agg-area', 'since', 'zones', 'zones-fill'],
    risk_environments: ['risk_environments'],
    measures: ['measures', 'measures-fill'],
    cameras: ['cameras', 'camera-sectors'],
    patrol_routes: ['patrol_routes'],
    areas: ['areas-fill', 'areas-line', 'area-names'],
  };

  // A window holding more incidents than one GeoJSON answer carries (10 000) is drawn from
  // vector tiles the server cuts from its index under the same grant: every incident in the
  // window, dense places as grid points with a count, and live like the rest (a change reloads
  // the tiles; unchanged ones answer 304 to their ETag). Measured (scripts/bench-browser,
  // docs/PERFORMANCE.md): 10 000 GeoJSON points are drawn within 0.2 s of asking, 40 000 take
  // half a second and 160 000 three, so past one page the tiles draw the window.
  const TILED = new Set(['incidents']);
  // Panels that follow the time window (the camera coverage).
  const windowWatchers = [];
  const tiled = new Set();
  function tileUrl(layer) {
    const p = new URLSearchParams();
    if (TIMED.has(layer)) p.set('datetime', windowParam(view));
    if (view.categories.size) p.set('category', [...view.categories].join(','));
    if (view.statuses.size && grant(layer) === 'exact') p.set('status', [...view.statuses].join(','));
    const q = p.toString().replaceAll('%2C', ',');
    return `${location.origin}/collections/${layer}/tiles/WebMercatorQuad/{z}/{y}/{x}${q ? `?${q}` : ''}`;
  }
  function setTiled(layer, on) {
    const id = `${layer}-tiles`;
    if (on) {
      const src = map.getSource(id);
      if (!src && grant(layer) === 'coarse') {
        // A coarse role's tiles hold cells: squares with their counts (points with a count where
        // a cell would be a few pixels), never a feature's own position.
        map.addSource(id, { type: 'vector', tiles: [tileUrl(layer)], maxzoom: 22 });
        map.addLayer({ id, source: id, 'source-layer': layer, type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: {
          'fill-color': match('category', s.incidents.colors, '#999999'),
          'fill-opacity': ['interpolate', ['linear'], ['get', 'count'], 1, 0.35, 20, 0.8],
          'fill-outline-color': '#333333' } }, 'incidents-cells');
        map.addLayer({ id: `${id}-points`, source: id, 'source-layer': layer, type: 'circle', filter: ['all', ['==', ['geometry-type'], 'Point'], ['!', ['has', 'label']]], paint: {
          'circle-radius': ['interpolate', ['linear'], ['get', 'count'], 1, 4, 50, 10, 500, 16],
          'circle-color': s.aggregate.color, 'circle-opacity': 0.7, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1 } }, 'incidents-cells');
        // The count once per cell, at its centre (the server writes it in the tile holding it).
        map.addLayer({ id: `${id}-counts`, source: id, 'source-layer': layer, type: 'symbol', minzoom: 12,
          filter: ['has', 'label'], layout: {
            'text-field': ['to-string', ['get', 'count']], 'text-font': [LABEL_FONT_BOLD], 'text-size': 12,
            'text-allow-overlap': true }, paint: { 'text-color': '#111111', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 } });
        styleLayers[layer].push(id, `${id}-points`, `${id}-counts`);
        clickable.push(id, `${id}-points`);
        for (const l of [id, `${id}-points`]) {
          map.on('mouseenter', l, () => { map.getCanvas().style.cursor = 'pointer'; });
          map.on('mouseleave', l, () => { map.getCanvas().style.cursor = ''; });
        }
      } else if (!src) {
        map.addSource(id, { type: 'vector', tiles: [tileUrl(layer)], maxzoom: 22 });
        map.addLayer({ id, source: id, 'source-layer': layer, type: 'circle', minzoom: 11.5, paint: {
          'circle-radius': ['case', ['has', 'count'],
            ['interpolate', ['linear'], ['get', 'count'], 1, s.incidents.radius, 50, s.incidents.radius * 2.5, 500, s.incidents.radius * 4],
            s.incidents.radius],
          'circle-color': ['case', ['has', 'count'], s.aggregate.color, match('category', s.incidents.colors, '#999999')],
          'circle-stroke-color': s.incidents.stroke, 'circle-stroke-width': 1 } }, layer);
        styleLayers[layer].push(id);
        clickable.push(id);
        map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
        map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
      } else if (src.tiles?.[0] !== tileUrl(layer)) {
        src.setTiles([tileUrl(layer)]);
      } else {
        // The same tiles after a change: fetched again (unchanged ones answer 304 to their ETag).
        map.refreshTiles(id);
      }
      tiled.add(layer);
    } else {
      tiled.delete(layer);
    }
    applyVisibility();
    applyFilter();
  }

  // Layers drawn from fewer features than the window holds: said beside the map, never silent.
  const partial = new Map();
  function setPartial(layer, fc) {
    const total = fc?.numberMatched;
    if (Number.isFinite(total) && total > fc.features.length) {
      partial.set(layer, T.partial(T.layerNames[layer] ?? layer, fc.features.length, total, TIMED.has(layer)));
    } else {
      partial.delete(layer);
    }
    const note = document.getElementById('partial');
    if (note) note.textContent = [...partial.values()].join(' ');
  }

  async function load(layer) {
    const g = grant(layer);
    if (g === 'none') return;
    const when = TIMED.has(layer) ? `&datetime=${encodeURIComponent(windowParam(view))}` : '';
    try {
      if (g === 'aggregate') {
        const [cells, byArea] = await Promise.all([
          getJson(`/collections/${layer}/aggregate?by=grid${when}`),
          getJson(`/collections/${layer}/aggregate?by=area${when}`),
        ]);
        map.getSource(`${layer}-agg`)?.setData(cells);
        map.getSource(`${layer}-agg-area`)?.setData(byArea);
        return;
      }
      if (layer === 'incidents') { loadOverview(); loadZones(); }
      const fc = await getJson(`/collections/${layer}/items?limit=10000${when}`);
      const tooMany = Number.isFinite(fc.numberMatched) && fc.numberMatched > fc.features.length;
      // Past one page the tiles draw the window: single incidents for exact roles, cells with
      // counts for coarse ones (cut by the server, so every incident of the window is counted).
      if (TILED.has(layer) && (g === 'exact' || g === 'coarse') && (tooMany || tiled.has(layer))) {
        setTiled(layer, tooMany);
        setPartial(layer, null);
      } else {
        setPartial(layer, fc);
      }
      if (layer === 'cameras' && g === 'exact') {
        // Views are worked out by the server (only for roles that see cameras exactly).
        getJson('/analysis/camera-views')
          .then((views) => map.getSource('camera-sectors').setData(views))
          // Never silently without them: the status line says the views are missing.
          .catch((e) => onStatus(T.viewsMissing(String(e))));
      }
      if (layer === 'incidents' && g === 'coarse') {
        // Cell centres are not places: the cells are drawn, with how many in each.
        map.getSource('incidents-cells').setData(tiled.has(layer) ? EMPTY : coarseCells(fc, T.values));
        map.getSource(layer).setData(EMPTY);
      } else {
        map.getSource(layer).setData(fc);
      }
      if (layer === 'areas') {
        areas = fc;
        placeAreaNames(fc);
        if (!hadPosition && fc.features.length) fitTo(fc);
      }
    } catch (msg) {
      onStatus(String(msg));
    }
  }

  // The overview map (zoomed out) follows the method that did best in the weekly back-test
  // for the chosen categories, unless the user picks one.
  const backTests = new Map();
  let overviewChoice = 'auto';

  /** The back-test of the chosen categories (cached), and the sentence beside the map. */
  async function backTest() {
    const key = [...view.categories].sort().join(',');
    if (!backTests.has(key)) {
      const q = key ? `&category=${key}` : '';
      backTests.set(key, getJson(`/analysis/backtest?weeks=26${q}`).catch(() => null));
    }
    const b = await backTests.get(key);
    const note = document.getElementById('backtest-note');
    if (note) {
      const lw = b?.last_week;
      const losers = (b?.methods ?? []).filter((m) => m.loses_to_naive).map((m) => T.methods[m.method] ?? m.method);
      note.textContent = lw ? T.backTest(T.methods[lw.method] ?? lw.method, Math.round(lw.hit_rate * 100),
        Math.round(lw.area_share * 100), lw.pai.toFixed(1), losers) : '';
    }
    return b;
  }

  /** Draws the overview by the chosen (or the best) method: density, counts per cell or Gi*. */
  async function loadOverview() {
    const cats = view.categories.size ? `&category=${[...view.categories].join(',')}` : '';
    const when = `datetime=${encodeURIComponent(windowParam(view))}${cats}`;
    const b = overviewChoice === 'auto' ? await backTest() : null;
    if (overviewChoice !== 'auto') backTest();
    let method = overviewChoice === 'auto' ? (b?.best ?? 'kde') : overviewChoice;
    const why = overviewChoice === 'auto' && b ? T.overviewBest : T.overviewChosen;
    const note = document.getElementById('density-note');
    const setNote = (detail) => { if (note) note.textContent = `${T.overviewNote(T.methods[method] ?? method, why)} ${detail}`; };
    const share = (features, value) => {
      const max = Math.max(0, ...features.map(value));
      for (const f of features) f.properties.share = max > 0 ? Math.max(0, value(f)) / max : 0;
    };
    try {
      if (method === 'gi_star') {
        try {
          const h = await getJson(`/analysis/hotspots?${when}`);
          share(h.features, (f) => f.properties.class);
          map.getSource('incidents-density').setData(h);
          setNote(T.giNote(h.band_m));
          return;
        } catch (msg) {
          // Too little data for Gi*: say so and show the density instead.
          onStatus(String(msg));
          method = 'kde';
        }
      }
      if (method === 'naive') {
        const fc = await getJson(`/collections/incidents/aggregate?by=grid&${when}`);
        share(fc.features, (f) => f.properties.count);
        map.getSource('incidents-density').setData(fc);
        setNote(T.naiveNote);
        return;
      }
      const d = await getJson(`/analysis/density?${when}`);
      map.getSource('incidents-density').setData(d);
      setNote(T.densityNote(d.bandwidth_m, d.cell_m, d.input === 'cell_counts'));
    } catch (msg) {
      onStatus(String(msg));
    }
  }

  const overviewSelect = document.getElementById('overview-method');
  if (overviewSelect) {
    overviewSelect.replaceChildren(...['auto', 'kde', 'naive', 'gi_star'].map((m) => {
      const o = document.createElement('option');
      o.value = m; o.textContent = m === 'auto' ? T.overviewAuto : T.methods[m];
      return o;
    }));
    overviewSelect.addEventListener('change', () => { overviewChoice = overviewSelect.value; loadOverview(); });
  }

  /** The near-repeat zones in force now (roles that see single incidents). */
  async function loadZones() {
    try {
      const z = await getJson('/analysis/near-repeat-zones');
      map.getSource('zones').setData(z);
      const note = document.getElementById('zones-note');
      if (note) note.textContent = z.features.length ? T.zonesNote(z.features.length, z.rule.radius_m, z.rule.days) : '';
    } catch (msg) {
      onStatus(String(msg));
    }
  }

  /** One label point per area, at its centre. */
  function placeAreaNames(fc) {
    map.getSource('area-labels').setData({
      type: 'FeatureCollection',
      features: fc.features.map((f) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: centre(f.geometry) },
        properties: { name: f.properties.name } })),
    });
  }

  function applyVisibility() {
    for (const [layer, ids] of Object.entries(styleLayers)) {
      const visible = grant(layer) !== 'none' && !view.hidden.has(layer);
      for (const id of ids) {
        if (!map.getLayer(id)) continue;
        // A tiled layer draws from its tiles, not from the page of GeoJSON.
        const shown = visible && (id === layer ? !tiled.has(layer) : !id.startsWith(`${layer}-tiles`) || tiled.has(layer));
        map.setLayoutProperty(id, 'visibility', shown ? 'visible' : 'none');
      }
    }
    writeHash(view);
  }

  // Details of a clicked feature, as text (never as HTML).
  const clickable = ['incidents', 'incidents-cells', 'risk_environments', 'measures', 'measures-fill', 'cameras', 'patrol_routes', 'incidents-agg', 'areas-fill'];
  let picker = null;
  const clickHandlers = [];
  map.on('click', (e) => {
    byKeyboard = false;
    if (picker) { const p = picker; picker = null; p(e.lngLat); return; }
    if (clickHandlers.some((h) => h(e.lngLat))) return;
    const hit = map.queryRenderedFeatures(e.point, { layers: clickable.filter((id) => map.getLayer(id)) })[0];
    if (hit) inspect(hit, e.lngLat);
  });
  // With the keyboard: the focused map shows a crosshair at its centre, and Enter shows the
  // feature nearest to it (within 30 px), as a click there would; Escape closes the popup.
  const canvas = map.getCanvas();
  const crosshair = document.createElement('div');
  crosshair.className = 'map-crosshair';
  crosshair.setAttribute('aria-hidden', 'true');
  map.getContainer().append(crosshair);
  canvas.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      for (const p of document.querySelectorAll('.maplibregl-popup')) p.remove();
      return;
    }
    if (e.key !== 'Enter') return;
    e.preventDefault();
    // Picking a place (a report, a measure) or drawing (a route) takes the centre, as a click.
    if (picker) { const p = picker; picker = null; p(map.getCenter()); return; }
    if (clickHandlers.some((h) => h(map.getCenter()))) return;
    const { width, height } = canvas.getBoundingClientRect();
    const c = { x: width / 2, y: height / 2 };
    const layers = clickable.filter((id) => map.getLayer(id));
    const near = map.queryRenderedFeatures([[c.x - 30, c.y - 30], [c.x + 30, c.y + 30]], { layers });
    const key = (f) => `${f.layer.id}:${f.id ?? JSON.stringify(f.properties)}`;
    const under = new Set(map.queryRenderedFeatures([c.x, c.y], { layers }).map(key));
    const distance = (f) => {
      if (f.geometry.type === 'Point') {
        const p = map.project(f.geometry.coordinates);
        return Math.hypot(p.x - c.x, p.y - c.y);
      }
      // A line or area under the crosshair first; one merely near it after any point.
      return under.has(key(f)) ? 0 : 29;
    };
    const hit = near.sort((a, b) => distance(a) - distance(b))[0];
    if (!hit) { onStatus(T.nothingAtCentre); return; }
    const at = hit.geometry.type === 'Point' ? { lng: hit.geometry.coordinates[0], lat: hit.geometry.coordinates[1] } : map.getCenter();
    byKeyboard = true;
    inspect(hit, at);
  });
  let byKeyboard = false;
  /** A popup at `lngLat`; opened from the keyboard, its close button takes the focus (read it,
   * then Escape or Enter goes back to the map). */
  function openPopup(lngLat, content) {
    const popup = new maplibregl.Popup({ maxWidth: '22rem' }).setLngLat(lngLat).setDOMContent(content).addTo(map);
    if (byKeyboard) {
      byKeyboard = false;
      const close = popup.getElement().querySelector('.maplibregl-popup-close-button');
      if (close) {
        close.focus();
        close.addEventListener('click', () => canvas.focus(), { once: true });
        close.addEventListener('keydown', (k) => { if (k.key === 'Escape') close.click(); });
      }
    }
    return popup;
  }
  /** Shows what `hit` is in a popup at `lngLat` (an area chooses the area instead). */
  function inspect(hit, lngLat) {
    const e = { lngLat };
    if (hit.layer.id === 'areas-fill' && onArea) { byKeyboard = false; onArea(hit.properties.name); return; }
    const table = document.createElement('table');
    table.className = 'details';
    const caption = document.createElement('caption');
    caption.textContent = T.layerNames[hit.layer.id] ?? T.layerNames[hit.source] ?? T.layerNames[hit.sourceLayer] ?? hit.source;
    table.append(caption);
    if (hit.properties.cluster) {
      // A grid point of a dense tile: how many, not which.
      const p = document.createElement('p');
      p.textContent = T.gridded(Number(hit.properties.count));
      openPopup(e.lngLat, p);
      return;
    }
    const show = (properties) => {
      for (const [k, v] of Object.entries(properties)) {
        if (v === null || v === undefined || v === '' || k === 'links') continue;
        const tr = document.createElement('tr');
        const a = document.createElement('th'); a.textContent = T.fields[k] ?? k;
        const b = document.createElement('td'); b.textContent = T.values[v] ?? formatValue(v);
        tr.append(a, b);
        table.append(tr);
      }
      openPopup(e.lngLat, table);
    };
    if (hit.properties.categories && hit.layer.id.startsWith('incidents-tiles')) {
      // A coarse tile's cell lists its categories by code: said in Swedish.
      const categories = String(hit.properties.categories).split(', ')
        .map((part) => { const [code, n] = part.split(' '); return `${T.values[code] ?? code} ${n}`; }).join(', ');
      show({ ...hit.properties, categories });
      return;
    }
    if (hit.layer.id.endsWith('-tiles') && hit.properties.id) {
      // A tile carries what draws the feature; the whole of it comes from the server.
      getJson(`/collections/${hit.sourceLayer}/items/${encodeURIComponent(hit.properties.id)}`)
        .then((f) => show(f.properties), (msg) => { byKeyboard = false; onStatus(String(msg)); });
      return;
    }
    show(hit.properties);
  }
  for (const id of clickable) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }

  // Live: reload a layer shortly after someone changes it.
  const pending = new Map();
  const events = new EventSource('/events');
  let received = 0;
  const onChange = (e) => {
    received += 1;
    let layer;
    try { layer = JSON.parse(e.data).layer; } catch { return; }
    clearTimeout(pending.get(layer));
    pending.set(layer, setTimeout(() => load(layer), 300));
  };
  events.addEventListener('upserted', onChange);
  events.addEventListener('deleted', onChange);
  events.addEventListener('lagged', () => LAYERS.forEach(load));
  events.addEventListener('resync', () => LAYERS.forEach(load));
  // A new zone is announced at once: draw it and say so.
  events.addEventListener('near_repeat_zone', (e) => {
    let zone;
    try { zone = JSON.parse(e.data); } catch { return; }
    onStatus(T.zoneAnnounced(T.values[zone.properties.category] ?? zone.properties.category));
    loadZones();
  });

  function applyFilter() {
    const all = ['all'];
    for (const [kind, prop] of [['categories', 'category'], ['organisations', 'organisation'], ['statuses', 'status']]) {
      if (view[kind].size) all.push(['in', ['get', prop], ['literal', [...view[kind]]]]);
    }
    const filter = all.length > 1 ? all : null;
    map.setFilter('incidents', filter);
    // (A coarse role's tiles are cells: no organisation to filter by, and their own filter kept.)
    if (map.getLayer('incidents-tiles') && grant('incidents') === 'exact') {
      // Categories and statuses are asked of the server (the tile URL); the organisation is
      // not a tile parameter, so it is applied here, to single incidents (grid points pass).
      const org = view.organisations.size ? ['in', ['get', 'organisation'], ['literal', [...view.organisations]]] : null;
      map.setFilter('incidents-tiles', org ? ['any', ['has', 'cluster'], org] : null);
    }
  }

  await Promise.all(LAYERS.map(load));
  applyVisibility();
  applyFilter();

  const areaGeometry = (name) => areas.features.find((f) => f.properties.name === name);
  return {
    map,
    view,
    areaNames: () => areas.features.map((f) => f.properties.name).sort((a, b) => a.localeCompare(b, 'sv')),
    focusArea(name) { const f = areaGeometry(name); if (f) fitTo({ features: [f] }); },
    windowParam: () => windowParam(view),
    /** Rings around incidents new, changed or closed since `date` (YYYY-MM-DD); returns counts. */
    async showSince(date) {
      const counts = { new: 0, changed: 0, closed: 0 };
      if (!date) { map.getSource('since').setData(EMPTY); return counts; }
      const since = new Date(date).getTime();
      const data = await map.getSource('incidents').getData();
      const marked = [];
      for (const f of data.features) {
        const p = f.properties;
        if (!p.updated_at) continue;
        const created = Date.parse(p.created_at);
        const updated = Date.parse(p.updated_at);
        let change = null;
        if (created >= since) change = 'new';
        else if (updated >= since && p.status === 'closed') change = 'closed';
        else if (updated >= since) change = 'changed';
        if (!change) continue;
        counts[change] += 1;
        marked.push({ type: 'Feature', geometry: f.geometry, properties: { change } });
      }
      map.getSource('since').setData({ type: 'FeatureCollection', features: marked });
      return counts;
    },
    symbols,
    grant,
    /** Larger symbols and thicker lines for the projector. */
    setLarge(on) {
      const k = on ? 1.6 : 1;
      map.setPaintProperty('incidents', 'circle-radius', s.incidents.radius * k);
      map.setPaintProperty('risk_environments', 'circle-radius', s.risk_environments.radius * k);
      map.setPaintProperty('patrol_routes', 'line-width', s.patrol_routes.width * k);
      map.setPaintProperty('areas-line', 'line-width', 1.5 * k);
      map.setLayoutProperty('area-names', 'text-size', on ? 18 : 13);
      map.setLayoutProperty('incidents-cell-counts', 'text-size', on ? 16 : 12);
    },
    /** Offers every map click to `handler` first; it returns true when it used the click. */
    onMapClick(handler) { clickHandlers.push(handler); },
    /** Hands the next map click to `callback` instead of opening details. */
    pickOnce(callback) { picker = callback; },
    /** Shows only incidents of these categories, organisations and statuses (empty: all). */
    setFilter(kind, values) {
      view[kind] = new Set(values);
      if (tiled.has('incidents') && kind !== 'organisations') setTiled('incidents', true);
      applyFilter();
      if (kind === 'categories' && grant('incidents') !== 'aggregate') loadOverview();
      writeHash(view);
    },
    /** The distinct values of a property among the loaded incidents. */
    async valuesOf(property) {
      const data = await map.getSource('incidents').getData();
      return [...new Set(data.features.map((f) => f.properties[property]).filter(Boolean))].sort();
    },
    setDays(days) {
      view.days = days; view.range = null; writeHash(view);
      windowWatchers.forEach((f) => f());
      return Promise.all([...TIMED].map(load));
    },
    /** A custom range of whole days, `YYYY-MM-DD` to `YYYY-MM-DD` inclusive. */
    setRange(from, to) {
      view.range = [from, to]; writeHash(view);
      windowWatchers.forEach((f) => f());
      return Promise.all([...TIMED].map(load));
    },
    /** Calls `f` whenever the time window changes. */
    onWindow(f) { windowWatchers.push(f); },
    setVisible(layer, visible) {
      if (visible) view.hidden.delete(layer); else view.hidden.add(layer);
      applyVisibility();
    },
    reload: (layer) => load(layer),
    /** The OGC datetime of the time window shown. */
    windowParam: () => windowParam(view),
    /** Draws a camera coverage report's least-covered hot cells and proposed sites. */
    showCoverage(report) {
      map.getSource('coverage-gaps').setData(report?.least_covered_hot_cells ?? EMPTY);
      map.getSource('camera-sites').setData(report?.sites ?? EMPTY);
    },
    /** Whether a layer is drawn from vector tiles (its window holds more than one page). */
    isTiled: (layer) => tiled.has(layer),
    /** The live stream's state and how many changes it has brought (for tests and support). */
    live: () => ({ open: events.readyState === EventSource.OPEN, received }),
    close() { events.close(); map.remove(); },
  };
}
