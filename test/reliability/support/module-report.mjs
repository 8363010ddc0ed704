/**
 * Preloaded into a process with `node --import <this file>`: on SIGUSR2 it writes every module
 * the process has loaded so far to MODULE_REPORT_FILE, as JSON {seq, cjs, esm}: `cjs` the files
 * in require.cache, `esm` the URLs the ES module loader resolved (import(), seen through a
 * module.register resolve hook). lazy-loading.rel-spec.ts reads it to prove what the app has not
 * loaded. Changes nothing else in the process. (An ES module because Node 20 silently exits when
 * a --require preload hands a MessagePort to module.register.)
 */
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const out = process.env.MODULE_REPORT_FILE;
if (!out) throw new Error('module-report.mjs: MODULE_REPORT_FILE is not set');

const esm = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => esm.add(String(url)));
port1.unref();
register('./module-report-hooks.mjs', import.meta.url, {
  data: { port: port2 },
  transferList: [port2],
});

// require.cache is the one CommonJS module cache of the process.
const cache = createRequire(import.meta.url).cache;
let seq = 0;
process.on('SIGUSR2', () => {
  seq += 1;
  const report = { seq, cjs: Object.keys(cache), esm: [...esm] };
  writeFileSync(`${out}.tmp`, JSON.stringify(report));
  renameSync(`${out}.tmp`, out);
});
