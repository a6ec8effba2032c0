/**
 * What the iLO's SSH server speaks. ssh2's defaults are modern; iLO 4 and
 * older iLO 5 firmware still negotiate SHA-1 key exchange, `ssh-rsa` host
 * keys and CBC ciphers, so those are appended (tried last). The host key is
 * pinned, which is what protects the session.
 */
import type { Algorithms } from 'ssh2';

export function legacyAlgorithms(): Algorithms {
  return {
    kex: { append: ['diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1'], prepend: [], remove: [] },
    serverHostKey: { append: ['ssh-rsa'], prepend: [], remove: [] },
    cipher: { append: ['aes128-cbc', 'aes256-cbc'], prepend: [], remove: [] },
    hmac: { append: ['hmac-sha1'], prepend: [], remove: [] },
  };
}
