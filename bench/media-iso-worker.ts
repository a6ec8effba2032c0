/**
 * Child process of the media benchmark: builds one deploy ISO (BIOS + UEFI +
 * isohybrid) from a kernel and a ramdisk on disk and streams it to a file, so
 * its peak memory can be measured on its own. Prints {"ms", "cpuMs", "size"} as JSON.
 * Usage: node dist/bench/media-iso-worker.js <kernel> <ramdisk> <out.iso>
 */
import { buildDeployIso } from '../lib/media';

async function main(): Promise<void> {
  const [kernel, ramdisk, out] = process.argv.slice(2);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const iso = await buildDeployIso({ kernel, ramdisk, kernelParams: 'console=ttyS0,115200', hybrid: true });
  await iso.writeToFile(out);
  const cpu = process.cpuUsage(c0);
  console.log(JSON.stringify({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, size: iso.size }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
