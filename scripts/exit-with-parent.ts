/**
 * Preloaded (`node --require`) into a child of the demo, started with an IPC
 * channel: when the channel closes, the parent is gone (it stopped, crashed
 * or was killed with SIGKILL), so this process stops too: SIGINT to itself
 * (Node-RED stops its flows and exits), then a hard exit if that hangs.
 * Without a channel (run by hand) it does nothing.
 */
if (process.send) {
  process.once('disconnect', () => {
    setTimeout(() => process.exit(1), 10_000).unref();
    process.kill(process.pid, 'SIGINT');
  });
  // The channel must not keep the process alive on its own.
  process.channel?.unref();
}
