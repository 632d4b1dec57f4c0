// Preloaded into each chaos worker process: if the test process dies without stopping it, the worker
// exits too, instead of living on and retrying a database port a later run may reuse.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 500).unref();
export {};
