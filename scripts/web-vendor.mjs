#!/usr/bin/env node
// Copies the map library from web/node_modules (installed from web/package-lock.json with
// `npm ci --prefix web`) into web/vendor/, which is committed and served by our own server, so
// the map needs no CDN and no npm on the machine that runs it. Run after changing a version:
//   npm ci --prefix web && node scripts/web-vendor.mjs
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');
const lock = JSON.parse(readFileSync(join(web, 'package-lock.json'), 'utf8'));
const files = {
  'maplibre-gl': ['dist/maplibre-gl.mjs', 'dist/maplibre-gl-worker.mjs', 'dist/maplibre-gl.css', 'LICENSE.txt'],
  // PMTiles basemaps read by range requests (BSD-3-Clause; the bundle defines the global `pmtiles`).
  pmtiles: ['dist/pmtiles.js'],
};
const versions = {};
for (const [pkg, list] of Object.entries(files)) {
  const out = join(web, 'vendor', pkg);
  mkdirSync(out, { recursive: true });
  for (const f of list) copyFileSync(join(web, 'node_modules', pkg, f), join(out, f.split('/').pop()));
  versions[pkg] = lock.packages[`node_modules/${pkg}`].version;
}
writeFileSync(join(web, 'vendor', 'VERSIONS.json'), JSON.stringify(versions, null, 2) + '\n');
console.log('vendored', versions);
