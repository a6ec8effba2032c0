/**
 * The DIB deploy ramdisk waits on TCP port 10000 for the literal "done",
 * then stops its iSCSI target and reboots.
 */
import { connect } from 'node:net';
import { DeployError } from './errors';

export function notifyDibRamdisk(address: string, port = 10000, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DeployError('timeout', `the deploy ramdisk at ${address}:${port} did not accept "done" within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    socket.once('connect', () => socket.end('done'));
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new DeployError('ramdisk', `cannot notify the deploy ramdisk at ${address}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    socket.once('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve();
    });
    socket.resume();
  });
}
