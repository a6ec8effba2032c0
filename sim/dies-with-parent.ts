/**
 * A simulator's helper program (tgtd, ipmi_sim) must not outlive the process
 * that started it, even one killed with SIGKILL: util-linux's setpriv, where
 * installed, asks the kernel to kill it when its parent dies.
 */
import { existsSync } from 'node:fs';

/** The command line that runs `program args` so that it dies with its parent (unchanged without setpriv). */
export function diesWithParent(program: string, args: string[]): [string, string[]] {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  return setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', program, ...args]] : [program, args];
}
