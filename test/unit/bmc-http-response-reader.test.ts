/** The HTTP/1.1 response reader behind RIBCL's one-connection-per-call transport. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HttpReadError, HttpResponseReader, type HttpResponse } from '../../lib/bmc/http-response-reader';
import { ribclFixtureDir } from '../helpers/env';
import { recordedBody } from '../helpers/replay-ilo';

const MAX = 32 * 1024 * 1024;

/** Feed `raw` in pieces cut at `cuts`, then the end of the connection. */
function read(raw: Buffer, cuts: number[] = [], max = MAX): HttpResponse {
  const reader = new HttpResponseReader(max);
  let from = 0;
  for (const at of [...cuts, raw.length]) {
    if (reader.push(raw.subarray(from, at))) return reader.response();
    from = at;
  }
  return reader.end();
}

const http = (head: string, body = ''): Buffer => Buffer.from(`${head.replace(/\n/g, '\r\n')}\r\n\r\n${body}`, 'latin1');

describe('HTTP response reader', () => {
  // xmldata.raw is a body alone (the unauthenticated /xmldata page), not an HTTP reply.
  const fixtures = readdirSync(ribclFixtureDir).filter((f) => f.endsWith('.raw') && f !== 'xmldata.raw');

  test('every recorded iLO reply reads to the bytes the iLO meant, in one piece and cut anywhere', () => {
    assert.ok(fixtures.length >= 50, `found ${fixtures.length} recorded replies`);
    for (const f of fixtures) {
      const raw = readFileSync(join(ribclFixtureDir, f));
      const expected = recordedBody(raw);
      const whole = read(raw);
      assert.equal(whole.statusCode, 200, f);
      assert.equal(whole.headers.server, 'Allegro-Software-RomPager/4.62', f);
      assert.equal(whole.body.toString('latin1'), expected, f);
      // Cut in three at positions that move through the whole reply.
      for (let k = 1; k < 40; k++) {
        const a = Math.floor((raw.length * k) / 41);
        const b = Math.min(raw.length, a + 1 + ((k * 7919) % 97));
        assert.equal(read(raw, [a, b]).body.toString('latin1'), expected, `${f} cut at ${a} and ${b}`);
      }
    }
  });

  test('byte by byte: chunk sizes, line ends and the header end split at every byte', () => {
    const raw = readFileSync(join(ribclFixtureDir, 'get_host_power_status.raw'));
    const cuts = Array.from({ length: raw.length - 1 }, (_, i) => i + 1);
    assert.equal(read(raw, cuts).body.toString('latin1'), recordedBody(raw));
  });

  test('a chunked reply is complete at its last chunk, before the iLO closes', () => {
    const reader = new HttpResponseReader(MAX);
    assert.equal(reader.push(http('HTTP/1.1 200 OK\nTransfer-Encoding: chunked', '5\r\nhello\r\n0\r\n\r\n')), true);
    assert.equal(reader.response().body.toString(), 'hello');
  });

  test('Content-Length, until-close, a 100 Continue first, a HEAD answer', () => {
    assert.equal(read(http('HTTP/1.1 200 OK\nContent-Length: 3', 'abcdef')).body.toString(), 'abc');
    assert.equal(read(http('HTTP/1.0 200 OK', 'until the end')).body.toString(), 'until the end');
    const r = read(Buffer.concat([http('HTTP/1.1 100 Continue'), http('HTTP/1.1 404 Not Found\nContent-Length: 2\nX-A: 1\nx-a: 2', 'no')]));
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.headers['x-a'], ['1', '2']);
    const head = new HttpResponseReader(MAX, true);
    assert.equal(head.push(http('HTTP/1.1 200 OK\nContent-Length: 99')), true);
    assert.equal(head.response().body.length, 0);
  });

  test('what is not HTTP, too large or cut short is an error naming the problem', () => {
    const fails = (raw: Buffer, code: HttpReadError['code'], message: RegExp, max = MAX): void =>
      assert.throws(() => read(raw, [], max), (e: unknown) => e instanceof HttpReadError && e.code === code && message.test(e.message));
    fails(http('<html>hello</html>'), 'ERR_ILO_BAD_HTTP', /status line/);
    fails(http('HTTP/1.1 200 OK\nbroken header line'), 'ERR_ILO_BAD_HTTP', /malformed header/);
    fails(http('HTTP/1.1 200 OK\nContent-Length: 1\nContent-Length: 2'), 'ERR_ILO_BAD_HTTP', /Content-Length/);
    fails(http('HTTP/1.1 200 OK\nTransfer-Encoding: chunked', 'zz\r\n'), 'ERR_ILO_BAD_HTTP', /chunk size/);
    fails(http('HTTP/1.1 200 OK\nTransfer-Encoding: chunked', `1;${'x'.repeat(2000)}\r\n`), 'ERR_ILO_BAD_HTTP', /too long/);
    fails(http(`HTTP/1.1 200 OK\nX: ${'y'.repeat(70_000)}`), 'ERR_ILO_BAD_HTTP', /header section/);
    fails(http('HTTP/1.1 200 OK\nContent-Length: 11'), 'ERR_ILO_ANSWER_TOO_LARGE', /larger than 10/, 10);
    fails(http('HTTP/1.1 200 OK\nTransfer-Encoding: chunked', 'b\r\n'), 'ERR_ILO_ANSWER_TOO_LARGE', /larger than 10/, 10);
    fails(http('HTTP/1.1 200 OK', '12345678901'), 'ERR_ILO_ANSWER_TOO_LARGE', /larger than 10/, 10);
    fails(http('HTTP/1.1 200 OK\nTransfer-Encoding: chunked', '5\r\nhel'), 'ERR_ILO_ANSWER_CUT', /before the answer was complete/);
    fails(Buffer.alloc(0), 'ERR_ILO_ANSWER_CUT', /without an answer/);
  });
});
