/**
 * The deploy parameters file (`parameters.txt`) on the virtual floppy:
 * `key=value` lines joined by "\n", no trailing newline, as Ironic writes it.
 * Both ramdisks split the file on whitespace (DIB with shell word splitting,
 * IPA with `str.split()`), so a value with a space, a newline or a control
 * character would silently become another parameter: such values are refused.
 */
import { describeBadCharacter, MediaError, invalidMediaInput } from './errors';

export type ParameterValue = string | number | boolean;
/** Parameters in the order they are written; `undefined` values are left out. */
export type DeployParameters = Record<string, ParameterValue | undefined> | ReadonlyArray<readonly [string, ParameterValue | undefined]>;

const KEY = /^[A-Za-z0-9_.:-]+$/;
/** Printable ASCII without space: what survives whitespace splitting in both ramdisks. */
const VALUE = /^[\x21-\x7e]*$/;

export function formatParameters(parameters: DeployParameters, field = 'parameters'): string {
  if (typeof parameters !== 'object' || parameters === null) throw invalidMediaInput(field, 'an object or a list of [key, value] pairs', parameters);
  const pairs: ReadonlyArray<readonly [string, unknown]> = Array.isArray(parameters) ? parameters : Object.entries(parameters);
  const seen = new Set<string>();
  const lines: string[] = [];
  pairs.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw invalidMediaInput(`${field}[${i}]`, 'a [key, value] pair', pair);
    const [key, raw] = pair;
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw invalidMediaInput(`${field} key`, "a key of letters, digits, '_', '.', ':' or '-' (no '=', no whitespace)", key);
    }
    if (seen.has(key)) throw invalidMediaInput(`${field}.${key}`, 'each key once', key);
    seen.add(key);
    if (raw === undefined) return;
    if (typeof raw !== 'string' && typeof raw !== 'boolean' && !(typeof raw === 'number' && Number.isFinite(raw))) {
      throw invalidMediaInput(`${field}.${key}`, 'a string, a finite number or a boolean', raw);
    }
    const value = String(raw);
    if (!VALUE.test(value)) {
      // The value itself is not repeated: it may be a secret (deployment_key, ipa-agent-token).
      throw new MediaError(
        'invalid-input',
        `${field}.${key}: expected a value of printable ASCII without spaces, tabs or newlines (the ramdisks split parameters.txt on whitespace; URL-quote such values); ${describeBadCharacter(value, (c) => VALUE.test(c))}`,
        { field: `${field}.${key}` },
      );
    }
    lines.push(`${key}=${value}`);
  });
  return lines.join('\n');
}

/** Reads parameters the way IPA does: whitespace-separated `key=value` words; words without `=` are ignored. */
export function parseParameters(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of text.split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq > 0) out[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return out;
}
