/**
 * `npm run bench -- ipmi`: what lib/ipmi adds on top of running ipmitool by
 * hand, against a real ipmi_sim on 127.0.0.1. Baseline: the same ipmitool
 * command lines run with child_process.execFile, measured in the same run.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Ipmitool } from '../lib/ipmi';
import { SIM_USER, startIpmiSim } from '../test/helpers/ipmi-sim';
import { hasTool } from '../test/helpers/env';
import { compare, heading, measure } from './harness';
import type { BenchSuite } from './suite';

const run = promisify(execFile);
const CALLS = 30;

export const ipmiBench: BenchSuite = {
  name: 'ipmi',
  async run() {
    heading('ipmi: ipmitool through lib/ipmi vs. ipmitool run directly (ipmi_sim)');
    if (!hasTool('ipmitool') || !hasTool('ipmi_sim')) {
      console.log('NOT RUN: ipmitool and ipmi_sim (Debian: ipmitool openipmi) are needed');
      return;
    }
    const sim = await startIpmiSim();
    try {
      const ipmi = new Ipmitool({ host: '127.0.0.1', port: sim.port, ...SIM_USER });
      const direct = (cmd: string[]): Promise<unknown> =>
        run('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(sim.port), '-U', SIM_USER.username, '-E', '-C', '3', ...cmd], {
          env: { ...process.env, IPMI_PASSWORD: SIM_USER.password },
        });
      await ipmi.powerStatus(); // warm-up: loads execa

      const base = await measure('direct power status', CALLS, async () => {
        for (let i = 0; i < CALLS; i++) await direct(['power', 'status']);
      });
      const ours = await measure('Ipmitool.powerStatus()', CALLS, async () => {
        for (let i = 0; i < CALLS; i++) await ipmi.powerStatus();
      });
      compare('power status, ms per call', ours.wallMs / CALLS, base.wallMs / CALLS, 'ms', { atMost: 1.5 });

      const sBase = await measure('direct sdr -v', 10, async () => {
        for (let i = 0; i < 10; i++) await direct(['sdr', '-v']);
      });
      const sOurs = await measure('Ipmitool.sensors()', 10, async () => {
        for (let i = 0; i < 10; i++) await ipmi.sensors();
      });
      compare('sensors (4 SDRs), ms per call', sOurs.wallMs / 10, sBase.wallMs / 10, 'ms', { atMost: 1.5 });
    } finally {
      await sim.stop();
    }
  },
};
