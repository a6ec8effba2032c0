/**
 * Deploys in progress by the MACs their servers reported, for the ramdisk's
 * lookup (IPA looks itself up by the MACs of the machine it booted on). A
 * MAC reported by two servers finds neither: no ramdisk is ever handed
 * another server's deploy.
 */

/** `AA-BB-CC-00-11-22`, `01-aa-bb-…` (PXE's ARP type prefix), `aabbcc001122` → `aa:bb:cc:00:11:22`; anything else → ''. */
export function normaliseMac(mac: string): string {
  const hex = String(mac).toLowerCase().replace(/^01-/, '').replace(/[^0-9a-f]/g, '');
  return hex.length === 12 ? (hex.match(/../g) as string[]).join(':') : '';
}

export class MacIndex {
  private readonly byMac = new Map<string, Set<string>>();
  private readonly macsOf = new Map<string, string[]>();

  /** What a deploy answers to now (no MACs: it leaves the index). */
  set(deployId: string, macs: readonly string[]): void {
    const wanted = [...new Set(macs.map(normaliseMac).filter(Boolean))];
    const old = this.macsOf.get(deployId) ?? [];
    if (old.length === wanted.length && old.every((m, i) => m === wanted[i])) return;
    for (const m of old) {
      const ids = this.byMac.get(m);
      ids?.delete(deployId);
      if (ids?.size === 0) this.byMac.delete(m);
    }
    for (const m of wanted) {
      const ids = this.byMac.get(m) ?? new Set<string>();
      ids.add(deployId);
      this.byMac.set(m, ids);
    }
    if (wanted.length) this.macsOf.set(deployId, wanted);
    else this.macsOf.delete(deployId);
  }

  /** Every deploy any of these MACs belongs to. */
  find(macs: readonly string[]): string[] {
    const ids = new Set<string>();
    for (const mac of macs) for (const id of this.byMac.get(normaliseMac(mac)) ?? []) ids.add(id);
    return [...ids];
  }
}
