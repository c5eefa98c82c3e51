// Builds the dashboard: web/src/ (JS modules + CSS, with uPlot from node_modules) bundled and
// minified into web/public/app.js and app.css, and web/src/index.html copied to web/public/.
// CMake embeds web/public/ into the binary, so the built files are committed: a build without
// Node still serves the dashboard.    node build.mjs [--watch]
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'public');
const options = {
  entryPoints: { app: path.join(here, 'src', 'main.js') },
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: '/* Touchpoint dashboard. Built by web/build.mjs from web/src; includes uPlot (MIT). */' },
};

fs.copyFileSync(path.join(here, 'src', 'index.html'), path.join(out, 'index.html'));
if (process.argv.includes('--watch')) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('watching web/src ...');
} else {
  await esbuild.build(options);
  for (const f of ['index.html', 'app.js', 'app.css']) {
    console.log(`web/public/${f}  ${(fs.statSync(path.join(out, f)).size / 1024).toFixed(1)} KiB`);
  }
}
