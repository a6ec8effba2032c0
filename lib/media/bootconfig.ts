/**
 * Boot loader configuration for the ISOs: isolinux.cfg (BIOS) and grub.cfg
 * (UEFI), both booting the same kernel and ramdisk with the same command line.
 */
import { describeBadCharacter, invalidMediaInput, MediaError } from './errors';

/** Linux on x86 keeps at most 2048 bytes of command line, terminator included. */
export const MAX_CMDLINE = 2047;

const WORD = /^[\x21\x23-\x26\x28-\x5b\x5d-\x7e]+$/;

/**
 * Kernel parameters as a list of words. A string is split on whitespace.
 * Each word must be printable ASCII without quotes or backslashes: a newline
 * would end the boot loader's config line and let the value inject commands,
 * and GRUB re-escapes quotes and backslashes where ISOLINUX passes them
 * through, so the two command lines would differ.
 */
export function kernelParamWords(params: string | readonly string[] | undefined, field = 'kernelParams'): string[] {
  if (params === undefined) return [];
  let words: string[];
  if (typeof params === 'string') {
    words = params.split(/\s+/).filter(Boolean);
  } else if (Array.isArray(params)) {
    words = [...params];
  } else {
    throw invalidMediaInput(field, 'a string or an array of words', params);
  }
  words.forEach((w, i) => {
    if (typeof w !== 'string') throw invalidMediaInput(`${field}[${i}]`, 'a string', w);
    if (!WORD.test(w)) {
      // The word itself is not repeated: deploy parameters on the command line may be secrets.
      throw new MediaError(
        'invalid-input',
        `${field}[${i}]: expected a non-empty word of printable ASCII without whitespace, quotes or backslashes; ${describeBadCharacter(w, (c) => WORD.test(c))}`,
        { field: `${field}[${i}]` },
      );
    }
  });
  return words;
}

export function checkCmdlineLength(words: readonly string[], field = 'kernelParams'): void {
  const line = words.join(' ');
  if (line.length > MAX_CMDLINE - 64) throw invalidMediaInput(field, `a command line of at most ${MAX_CMDLINE - 64} characters`, `${line.length} characters`);
}

export interface BootEntry {
  /** Paths on the ISO, absolute (`/vmlinuz`). */
  kernel: string;
  initrd: string;
  params: readonly string[];
  /** Put the boot loader's own console on the first serial port as well (115200 baud). */
  serial?: boolean;
}

export function isolinuxConfig(e: BootEntry): string {
  return [
    ...(e.serial ? ['SERIAL 0 115200'] : []),
    'DEFAULT boot',
    'PROMPT 0',
    'TIMEOUT 0',
    'LABEL boot',
    `  KERNEL ${e.kernel}`,
    `  INITRD ${e.initrd}`,
    `  APPEND ${e.params.join(' ')}`,
    '',
  ].join('\n');
}

/** A word as GRUB reads it literally: single-quoted when it holds anything GRUB's shell would interpret. */
export function grubQuote(word: string): string {
  if (/^[A-Za-z0-9_.,:/=+@%-]+$/.test(word)) return word;
  return `'${word}'`; // words never hold a quote (kernelParamWords)
}

/**
 * grub.cfg: finds the ISO by its volume label (whatever device GRUB started
 * from: the ESP, its memdisk or another disk) and boots the kernel from it.
 */
export function grubConfig(e: BootEntry & { volumeId: string }): string {
  return [
    ...(e.serial ? ['serial --unit=0 --speed=115200', 'terminal_input serial console', 'terminal_output serial console'] : []),
    'set timeout=0',
    `search --no-floppy --set=root --label ${grubQuote(e.volumeId)}`,
    `linux ${e.kernel} ${e.params.map(grubQuote).join(' ')}`.trimEnd(),
    `initrd ${e.initrd}`,
    'boot',
    '',
  ].join('\n');
}
