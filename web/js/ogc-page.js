// The small map of the API's HTML pages (/collections/{id}/items?f=html and one feature):
// draws the features embedded in the page, on the same offline background as the map client.
import * as maplibregl from '../vendor/maplibre-gl/maplibre-gl.mjs';

const container = document.getElementById('map');
const island = document.getElementById('features');
if (container && island) {
  const features = JSON.parse(island.textContent);
  const fc = { type: 'FeatureCollection', features };
  const coords = [];
  const walk = (c) => (typeof c[0] === 'number' ? coords.push(c) : c.forEach(walk));
  features.forEach((f) => f.geometry && walk(f.geometry.coordinates));
  const map = new maplibregl.Map({
    container,
    attributionControl: false,
    style: {
      version: 8,
      sources: { features: { type: 'geojson', data: fc } },
      layers: [
        { id: 'background', type: 'background', paint: { 'background-color': '#f4f1ea' } },
        { id: 'fill', type: 'fill', source: 'features', filter: ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]],
          paint: { 'fill-color': '#0072B2', 'fill-opacity': 0.25, 'fill-outline-color': '#0072B2' } },
        { id: 'line', type: 'line', source: 'features', filter: ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]],
          paint: { 'line-color': '#0072B2', 'line-width': 2 } },
        { id: 'point', type: 'circle', source: 'features', filter: ['==', ['geometry-type'], 'Point'],
          paint: { 'circle-color': '#0072B2', 'circle-radius': 5, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1 } },
      ],
    },
    center: coords[0] ?? [17.78, 59.22],
    zoom: 12,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  if (coords.length > 1) {
    const xs = coords.map((c) => c[0]);
    const ys = coords.map((c) => c[1]);
    map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 30, duration: 0, maxZoom: 16 });
  }
  map.once('load', () => container.setAttribute('data-loaded', String(features.length)));
}
