import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanLine, LineBuffer } from '../../lib/console/lines';
import { filterVspInput } from '../../lib/console/ssh-vsp';
import { parseHostKeyFingerprint } from '../../lib/console/host-key';
import { resolveConsoleConfig } from '../../lib/console/config';
import { isBmcError } from '../../lib/bmc';

describe('console lines', () => {
  test('a line reads as on the screen: colours, cursor moves and control characters gone, CR overwrites', () => {
    assert.equal(cleanLine('\x1b[1;32mOK\x1b[0m  Started \x1b]0;title\x07service\r'), 'OK  Started service');
    assert.equal(cleanLine('loading  10%\rloading 100%'), 'loading 100%');
    assert.equal(cleanLine('abc\rX'), 'Xbc');
    assert.equal(cleanLine('roxx\b\bot'), 'root');
    assert.equal(cleanLine('\x1b(B\x1b[2J\x1b[Hlogin: \x07'), 'login:');
  });

  test('lines split across chunks, including a UTF-8 character and an escape cut in two', () => {
    const b = new LineBuffer(10);
    const text = Buffer.from('Démarrage\r\n\x1b[32mfini\x1b[0m\r\nserver-1 login: ', 'utf8');
    const done: string[] = [];
    for (let i = 0; i < text.length; i += 3) done.push(...b.push(text.subarray(i, i + 3)));
    assert.deepEqual(done, ['Démarrage', 'fini']);
    assert.deepEqual(b.lines(), ['Démarrage', 'fini', 'server-1 login:'], 'the prompt being written counts as the last line');
  });

  test('keeps the last N lines; an endless line is cut', () => {
    const b = new LineBuffer(100, 50);
    for (let i = 0; i < 1000; i++) b.push(Buffer.from(`line ${i}\n`));
    const last = b.lines(100);
    assert.equal(last.length, 100);
    assert.equal(last[0], 'line 900');
    assert.equal(last[99], 'line 999');
    assert.deepEqual(b.lines(3), ['line 997', 'line 998', 'line 999']);
    const long = new LineBuffer(10, 50);
    long.push(Buffer.alloc(175, 'x'));
    assert.deepEqual(long.lines().map((l) => l.length), [50, 50, 50, 25]);
  });
});

describe('console settings', () => {
  test('the host key pin is read in both formats; a bad one names sshHostKey', () => {
    const hex = 'AB:'.repeat(31) + 'AB';
    assert.equal(parseHostKeyFingerprint(hex).length, 32);
    const b64 = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    assert.deepEqual(parseHostKeyFingerprint(b64), Buffer.alloc(32, 7));
    assert.throws(() => parseHostKeyFingerprint('MD5:aa:bb'), (e: unknown) => isBmcError(e, 'invalid-input') && e.field === 'sshHostKey');
  });

  test('SSH without a pinned key, a bad method or port: refused naming the field', () => {
    const base = { host: '10.0.0.5', username: 'admin', password: 'pw' };
    assert.throws(() => resolveConsoleConfig({ ...base, method: 'ssh' }), (e: unknown) => isBmcError(e, 'invalid-input') && e.field === 'sshHostKey');
    assert.throws(() => resolveConsoleConfig({ ...base, method: 'telnet' as never }), (e: unknown) => isBmcError(e, 'invalid-input') && e.field === 'consoleMethod');
    assert.throws(() => resolveConsoleConfig({ ...base, sshPort: 70000 }), (e: unknown) => isBmcError(e, 'invalid-input') && e.field === 'sshPort');
    assert.throws(() => resolveConsoleConfig({ ...base, ipmiPort: 0 }), (e: unknown) => isBmcError(e, 'invalid-input') && e.field === 'ipmiPort');
    const c = resolveConsoleConfig(base);
    assert.deepEqual([c.method, c.ipmiPort, c.sshPort, c.sshHostKey], ['auto', 623, 22, undefined]);
  });

  test('ESC ( never reaches the iLO from the keyboard (it would end the virtual serial port)', () => {
    const st = { lastWasEsc: false };
    assert.deepEqual([...filterVspInput(Buffer.from('a\x1b(b'), st)], [...Buffer.from('a\x1bb')]);
    assert.deepEqual([...filterVspInput(Buffer.from('\x1b'), st)], [0x1b]);
    assert.deepEqual([...filterVspInput(Buffer.from('(x'), st)], [...Buffer.from('x')], 'also across writes');
    assert.deepEqual([...filterVspInput(Buffer.from('\x1b[A('), st)], [...Buffer.from('\x1b[A(')], 'arrow keys and a later ( pass');
  });
});
