/**
 * A small ISO 9660 reader for the simulated instance: the volume label and
 * files by path, with Rock Ridge names (NM) where the volume has them, as a
 * Linux mount shows them. Written apart from lib/media's writer so that each
 * checks the other.
 */

const BLOCK = 2048;

interface IsoEntry {
  name: string;
  isDirectory: boolean;
  lba: number;
  size: number;
}

export class IsoReader {
  readonly label: string;
  private readonly root: IsoEntry;

  /** `read(offset, length)` reads bytes of the volume. */
  constructor(private readonly read: (offset: number, length: number) => Buffer) {
    const pvd = read(16 * BLOCK, BLOCK);
    if (pvd[0] !== 1 || pvd.toString('latin1', 1, 6) !== 'CD001') throw new Error('not an ISO 9660 volume');
    this.label = pvd.toString('latin1', 40, 72).trimEnd();
    this.root = { name: '', isDirectory: true, lba: pvd.readUInt32LE(156 + 2), size: pvd.readUInt32LE(156 + 10) };
  }

  private list(dir: IsoEntry): IsoEntry[] {
    const data = this.read(dir.lba * BLOCK, dir.size);
    const out: IsoEntry[] = [];
    for (let off = 0; off < data.length; ) {
      const len = data[off] as number;
      if (len === 0) {
        off = (Math.floor(off / BLOCK) + 1) * BLOCK; // records never straddle blocks: the rest of this one is padding
        continue;
      }
      const rec = data.subarray(off, off + len);
      off += len;
      const idLen = rec[32] as number;
      const id = rec.subarray(33, 33 + idLen);
      if (idLen === 1 && ((id[0] as number) === 0 || (id[0] as number) === 1)) continue; // "." and ".."
      const susp = rec.subarray(33 + idLen + (idLen % 2 === 0 ? 1 : 0));
      const name = rockRidgeName(susp) ?? id.toString('latin1').replace(/;\d+$/, '').replace(/\.$/, '').toLowerCase();
      out.push({ name, isDirectory: ((rec[25] as number) & 0x02) !== 0, lba: rec.readUInt32LE(2), size: rec.readUInt32LE(10) });
    }
    return out;
  }

  private find(path: string): IsoEntry | undefined {
    let cur: IsoEntry | undefined = this.root;
    for (const part of path.split('/').filter(Boolean)) {
      if (!cur?.isDirectory) return undefined;
      cur = this.list(cur).find((e) => e.name === part);
    }
    return cur;
  }

  /** Names in a directory ('' for the root), or undefined when there is no such directory. */
  readdir(path: string): string[] | undefined {
    const d = this.find(path);
    return d?.isDirectory ? this.list(d).map((e) => e.name) : undefined;
  }

  /** A file's bytes, or undefined when there is no such file. */
  readFile(path: string): Buffer | undefined {
    const f = this.find(path);
    return f && !f.isDirectory ? this.read(f.lba * BLOCK, f.size) : undefined;
  }
}

/** The name in a System Use area's NM entries (a name split over several NM entries is joined). */
function rockRidgeName(susp: Buffer): string | undefined {
  let name: string | undefined;
  for (let off = 0; off + 4 <= susp.length; ) {
    const sig = susp.toString('latin1', off, off + 2);
    const len = susp[off + 2] as number;
    if (len < 4) break;
    if (sig === 'NM') name = (name ?? '') + susp.toString('utf8', off + 5, off + len);
    if (sig === 'ST') break;
    off += len;
  }
  return name;
}
