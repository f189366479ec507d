// Loaded into every test process (scripts/test.js). With --test-force-exit, Node exits a test
// file's process as soon as its tests end, and on Linux its last results may still sit in the
// stdout pipe to the runner: those tests then vanish from the report while the run exits 0
// (nodejs/node#64833; seen here as 36 tests missing from a Node 22 run). Blocking writes reach the
// runner before the exit.
for (const stream of [process.stdout, process.stderr]) stream._handle?.setBlocking?.(true);
