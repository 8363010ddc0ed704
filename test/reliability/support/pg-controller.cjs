// Holds one startEmbeddedPostgres() handle for the reliability suite (see PgServer in postgres.ts):
// starts the server, says {ready}, and stops it on 'stop' or when the test process goes away.
'use strict';
const { startEmbeddedPostgres } = require(process.env.EMBEDDED_JS);

let handle;
let stopping;
function stop(code) {
  stopping ??= Promise.resolve(handle?.stop()).finally(() => process.exit(code));
  return stopping;
}

process.on('message', (m) => {
  if (m === 'stop') void stop(0);
});
process.on('disconnect', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

startEmbeddedPostgres({
  dir: process.env.PG_DIR,
  port: Number(process.env.PG_PORT),
  database: 'postgres_rel',
  persistent: true,
}).then(
  (h) => {
    handle = h;
    process.send({ ready: true });
  },
  (err) => {
    process.send({ error: String(err && err.message ? err.message : err) });
    process.exit(1);
  },
);
