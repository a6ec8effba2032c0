import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { SimHostConsole } from '../../sim/console/host-console';
import { SimServer } from '../../sim/server';

test("a simulated server's serial console follows its ramdisk: kernel, agent log, the instance's login prompt", async () => {
  const server = new SimServer({ name: 'server-9', username: 'admin', password: 'pw', timings: { powerOnMs: 0, postMs: 0 } });
  const host = new SimHostConsole(server, server.serial);
  server.hostConsole = host;
  // The events sim/ramdisk/boot.ts emits (it calls server.hostConsole.follow(itself)).
  const ramdisk = new EventEmitter();
  host.follow(ramdisk);
  server.powerOn();
  await new Promise((r) => setImmediate(r));
  ramdisk.emit('ramdisk', { kind: 'ipa', params: {} });
  ramdisk.emit('log', 'heartbeat sent');
  ramdisk.emit('instance', { via: 'disk' });
  const out = server.serial.output();
  assert.match(out, /ProLiant System BIOS/);
  assert.match(out, /Starting ironic-python-agent/);
  assert.match(out, /ironic-python-agent\[612\]: heartbeat sent/);
  assert.match(out, /the deployed instance[\s\S]*server-9 login: $/);
  server.serial.input(Buffer.from('root\r'));
  assert.match(server.serial.output(), /login: root\r\nPassword: $/, 'typed text is echoed as by a tty, the password is not');
  server.dispose();
});
