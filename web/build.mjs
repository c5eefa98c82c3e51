// Builds the dashboard: web/src/ (JS modules + CSS, with uPlot from node_modules) bundled and
// minified into web/public/app.js and app.css, and web/src/index.html copied to web/public/.
// CMake embeds web/public/ into the binary, so the built files are committed: a build without
// Node still serves the dashboard.    node build.mjs [--watch]
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import zlib from 'node:zlib';
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
  // Pre-compressed copies: the server sends them to clients that accept gzip (no mtime in the
  // header, so the output is reproducible).
  for (const f of ['app.js', 'app.css', 'tp.js']) {
    const raw = fs.readFileSync(path.join(out, f));
    fs.writeFileSync(path.join(out, f + '.gz'), zlib.gzipSync(raw, { level: 9 }));
  }
  for (const f of ['index.html', 'app.js', 'app.css', 'app.js.gz', 'app.css.gz', 'tp.js.gz']) {
    console.log(`web/public/${f}  ${(fs.statSync(path.join(out, f)).size / 1024).toFixed(1)} KiB`);
  }
}
