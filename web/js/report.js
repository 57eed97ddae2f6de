// Rapportera: a phone-sized form to report an incident at the device's position or a tapped
// point. Reports that cannot be sent (no network) wait in a queue in this browser and are sent
// when the network is back; the user sees what was sent and what the server refused.
import { send } from './api.js';
import { T } from './strings.js';

const QUEUE = 'lagesbild.reportQueue';

function queued() {
  try { return JSON.parse(localStorage.getItem(QUEUE) || '[]'); } catch { return []; }
}
function saveQueue(q) { localStorage.setItem(QUEUE, JSON.stringify(q)); }

/** Wires the report form; `pickPoint` resolves with [lon, lat] from the next map click. */
export function setupReport({ form, list, pickButton, hereButton, position, pickPoint }) {
  let point = null;
  const showPoint = () => {
    position.textContent = point ? T.report.at(point[1].toFixed(5), point[0].toFixed(5)) : T.report.noPoint;
  };
  const log = (text, kind) => {
    const li = document.createElement('li');
    li.className = kind;
    li.textContent = text;
    list.prepend(li);
  };

  async function deliver(item) {
    try {
      const created = await send('POST', '/collections/incidents/items', item.feature);
      log(T.report.sent(T.values[item.feature.properties.category] ?? item.feature.properties.category), 'sent');
      return created ? 'sent' : 'sent';
    } catch (msg) {
      if (!navigator.onLine || msg === T.errors.network) return 'wait';
      log(T.report.refused(String(msg)), 'failed');
      return 'refused';
    }
  }

  async function flush() {
    const q = queued();
    if (!q.length || !navigator.onLine) return;
    const keep = [];
    for (const item of q) {
      if ((await deliver(item)) === 'wait') keep.push(item);
    }
    saveQueue(keep);
    if (keep.length) log(T.report.waiting(keep.length), 'waiting');
  }

  pickButton.addEventListener('click', async () => {
    position.textContent = T.report.tapMap;
    point = await pickPoint();
    showPoint();
  });
  hereButton.addEventListener('click', () => {
    if (!navigator.geolocation) { position.textContent = T.report.noGeolocation; return; }
    navigator.geolocation.getCurrentPosition(
      (p) => { point = [p.coords.longitude, p.coords.latitude]; showPoint(); },
      () => { position.textContent = T.report.noGeolocation; },
      { enableHighAccuracy: true, timeout: 10000 },
    );
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!point) { position.textContent = T.report.noPoint; return; }
    const data = new FormData(form);
    const item = {
      feature: {
        type: 'Feature',
        geometry: { type: 'Point', coordinates: point },
        properties: {
          category: data.get('category'),
          severity: Number(data.get('severity')),
          occurred_at: new Date().toISOString(),
          description: String(data.get('description') || ''),
        },
      },
    };
    const outcome = navigator.onLine ? await deliver(item) : 'wait';
    if (outcome === 'wait') {
      saveQueue([...queued(), item]);
      log(T.report.queued, 'waiting');
    }
    if (outcome !== 'refused') { form.reset(); point = null; showPoint(); }
  });

  window.addEventListener('online', flush);
  showPoint();
  flush();
  return { flush, queued };
}
