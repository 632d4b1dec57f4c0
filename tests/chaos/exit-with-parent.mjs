// Preloaded into each process the chaos test starts (the workers, and the Next.js server with its
// own children, through NODE_OPTIONS): if its parent dies without stopping it, it exits too, instead
// of living on and retrying a database port a later run may reuse (or, for Next, holding .next/dev's
// lock). Plain JavaScript, so Next's processes can load it without a TypeScript loader.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(1);
}, 500).unref();
