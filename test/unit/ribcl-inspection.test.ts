/**
 * RIBCL inspection decoded from replies a real iLO 3 (BL460c G7) recorded:
 * the G7 memory layout (per-DIMM MEMORY_COMPONENTS), no STORAGE section
 * (a blade without RAID reporting), no boot-mode commands.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { completeInspection } from '../../lib/bmc/inspection';
import { analyzeRibclReply, type RibclReply } from '../../lib/bmc/ribcl/protocol';
import { decodeInspection } from '../../lib/bmc/ribcl/inspect';
import { ribclFixtureDir } from '../helpers/env';
import { recordedBody } from '../helpers/replay-ilo';

const reply = (name: string): RibclReply => analyzeRibclReply(recordedBody(readFileSync(join(ribclFixtureDir, name))));

/** The recorded answers, one per command, as one request answering them all would carry them. */
function together(...names: string[]): RibclReply {
  const parts = names.map(reply);
  return { ...parts[0]!, payload: parts.flatMap((p) => p.payload), warnings: parts.flatMap((p) => p.warnings) };
}

test('a recorded iLO 3: CPUs from EXECUTION_TECHNOLOGY, memory from the per-DIMM sizes, no disks known, legacy BIOS, ROM from the firmware list', () => {
  const r = completeInspection(decodeInspection(together('get_product_name.raw', 'get_host_data.raw', 'get_fw_version.raw', 'get_embedded_health.raw', 'get_all_licenses.raw'), false));
  assert.equal(r.model, 'ProLiant BL460c G7');
  assert.equal(r.serialNumber, 'CZ320580J3');
  assert.deepEqual({ sockets: r.cpu.sockets, cores: r.cpu.cores, threads: r.cpu.threads, arch: r.cpu.arch }, { sockets: 2, cores: 12, threads: 24, arch: 'x86_64' });
  assert.equal(r.memoryMb, 6 * 4096, 'six 4 GiB DIMMs, five empty slots');
  assert.deepEqual([r.disks, r.volumes], [[], []]);
  assert.equal(r.properties.local_gb, 0, 'nothing known: 0, as Ironic keeps it');
  assert.deepEqual(r.bootMode, { supported: ['bios'] });
  assert.equal(r.secureBoot.capable, false);
  assert.equal(r.licence?.type, 'iLO 3 Advanced');
  assert.equal(r.firmware.ilo, '1.82');
  assert.equal(r.firmware.rom, '05/05/2011', 'the ROM version from "HP ProLiant System ROM"');
  assert.ok(r.nics.length > 0);
  assert.equal(r.capabilities.server_model, 'ProLiant BL460c G7');
  assert.equal(r.capabilities.boot_mode_uefi, 'false');
  assert.equal(r.capabilities.secure_boot, undefined);
});
