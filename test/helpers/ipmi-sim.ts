/**
 * A real OpenIPMI `ipmi_sim` on 127.0.0.1 for the ipmitool tests: its own
 * temp dir, free ports, a chassis_control hook that records every call and
 * keeps power/boot state in files, SDRs compiled by `sdrcomp`, a TCP stand-in
 * for the server's serial port (for SOL) and the emulator's command console.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SIM_USER = { username: 'admin', password: 'Sim-Pass_42' };
export const SIM_OPERATOR = { username: 'oper', password: 'oper-pass' };

/** What the .emu file sets: sensor number -> raw value, and what ipmitool shows for it. */
export const SIM_SENSORS = {
  inletTemp: { number: 1, raw: 0x2a, reading: 42, unit: 'degrees C' },
  fan: { number: 2, raw: 0x3c, reading: 6000, unit: 'RPM' },
  psuPresence: { number: 3 },
  /** Described in the SDRs but absent from the controller: it has no reading. */
  cpuVolt: { number: 4 },
} as const;

export interface IpmiSim {
  readonly port: number;
  readonly dir: string;
  /** The hook's view: power "0"/"1", last boot device, and every call in order. */
  hook(): { power: string; boot: string; calls: string[] };
  /** Bytes the BMC forwarded to the serial port (from SOL keystrokes). */
  serialReceived(): Buffer;
  /** Write as the server's serial port (reaches an active SOL session). Resolves once connected. */
  serialWrite(data: string | Buffer): Promise<void>;
  /** Run one emulator command on the console port; returns what it printed. */
  command(line: string): Promise<string>;
  /** Open a console with `debug msg` on: every IPMI message the BMC receives is logged to it. */
  traceMessages(): Promise<{ text(): string; close(): Promise<void> }>;
  stop(): Promise<void>;
}

export async function startIpmiSim(): Promise<IpmiSim> {
  const dir = mkdtempSync(join(tmpdir(), 'ipmi-sim-'));
  const hookDir = join(dir, 'hook');
  const stateDir = join(dir, 'state');
  mkdirSync(hookDir);
  mkdirSync(join(stateDir, 'ipmi_sim', 'bmc1'), { recursive: true });
  writeFileSync(join(hookDir, 'power'), '0\n');
  writeFileSync(join(hookDir, 'boot'), 'default\n');

  let serialSocket: Socket | undefined;
  const serialChunks: Buffer[] = [];
  let serialConnected!: () => void;
  const serialReady = new Promise<void>((r) => (serialConnected = r));
  const serial: Server = createServer((s) => {
    serialSocket?.destroy();
    serialSocket = s;
    s.on('data', (d: Buffer) => serialChunks.push(d));
    s.on('error', () => undefined);
    serialConnected();
  });
  await new Promise<void>((r) => serial.listen(0, '127.0.0.1', r));
  const serialPort = (serial.address() as { port: number }).port;

  let child: ChildProcess | undefined;
  let consolePort = 0;
  let port = 0;
  let stopping = false;
  const cleanup = async (): Promise<void> => {
    stopping = true;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    serialSocket?.destroy();
    await new Promise((r) => serial.close(r));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    writeFileSync(join(dir, 'chassis.sh'), HOOK);
    chmodSync(join(dir, 'chassis.sh'), 0o755);
    writeFileSync(join(dir, 'bmc1.sdrs'), SDRS);
    execFileSync('sdrcomp', ['-o', join(dir, 'bmc1.bsdr'), join(dir, 'bmc1.sdrs')], { stdio: 'pipe' });
    copyFileSync(join(dir, 'bmc1.bsdr'), join(stateDir, 'ipmi_sim', 'bmc1', 'sdr.20.main'));
    writeFileSync(join(dir, 'bmc1.emu'), EMU);

    // Ports are picked free just before the start; a lost race shows as an early exit, and we try again.
    for (let attempt = 0; ; attempt++) {
      port = await freeUdpPort();
      consolePort = await freeTcpPort();
      writeFileSync(join(dir, 'lan.conf'), lanConf({ dir, hookDir, port, serialPort, consolePort }));
      // ipmi_sim dies of SIGPIPE when a console client leaves while it writes; an
      // ignored signal stays ignored across exec, and `exec` keeps the pid.
      const c = spawn('/bin/sh', ['-c', 'trap "" PIPE; exec ipmi_sim -n -c "$1" -f "$2" -s "$3"', 'sh', join(dir, 'lan.conf'), join(dir, 'bmc1.emu'), stateDir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      let output = '';
      c.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      c.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      if (await consoleAnswers(consolePort, c)) {
        // Say so if the simulator dies under the tests: every later failure follows from it.
        c.once('exit', (code, signal) => {
          if (!stopping) process.stderr.write(`\n!!! ipmi_sim (port ${port}) exited during the tests: code ${code}, signal ${signal}; output: ${output.trim()}\n`);
        });
        break;
      }
      if (attempt >= 3) throw new Error(`ipmi_sim did not start: ${output.trim()}`);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  const hookFile = (name: string): string => readFileSync(join(hookDir, name), 'utf8').trim();
  const sim: IpmiSim = {
    port,
    dir,
    hook: () => ({
      power: hookFile('power'),
      boot: hookFile('boot'),
      calls: readFileSafe(join(hookDir, 'calls.log')).split('\n').filter(Boolean),
    }),
    serialReceived: () => Buffer.concat(serialChunks),
    async serialWrite(data) {
      await serialReady;
      serialSocket?.write(data);
    },
    async command(line) {
      const con = await openConsole(consolePort);
      try {
        return await con.run(line);
      } finally {
        con.close();
      }
    },
    async traceMessages() {
      const con = await openConsole(consolePort);
      await con.run('debug msg');
      return {
        text: () => con.buffer(),
        async close() {
          await con.run('debug').catch(() => undefined);
          con.close();
        },
      };
    },
    stop: cleanup,
  };
  return sim;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

interface Console {
  run(line: string): Promise<string>;
  buffer(): string;
  close(): void;
}

/** The emulator console speaks telnet: strip IAC sequences, wait for its "> " prompt. */
async function openConsole(port: number): Promise<Console> {
  const sock = connect(port, '127.0.0.1');
  let text = '';
  let waiter: (() => void) | undefined;
  sock.on('data', (d: Buffer) => {
    text += stripTelnet(d).toString('latin1');
    waiter?.();
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('error', () => undefined);
  const prompt = async (from: number): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!text.slice(from).includes('> ')) {
      if (Date.now() > deadline) throw new Error(`ipmi_sim console: no prompt; got ${JSON.stringify(text.slice(from))}`);
      await new Promise<void>((r) => {
        waiter = r;
        setTimeout(r, 100);
      });
    }
  };
  await prompt(0);
  return {
    async run(line) {
      const from = text.length;
      sock.write(`${line}\n`);
      const echoEnd = from + line.length;
      await prompt(echoEnd);
      return text.slice(from, text.lastIndexOf('> ')).replace(line, '').trim();
    },
    buffer: () => text,
    close: () => sock.end(),
  };
}

function stripTelnet(buf: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0xff) {
      i += 2;
      continue;
    }
    out.push(buf[i] as number);
  }
  return Buffer.from(out);
}

async function consoleAnswers(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    // Wait for the prompt before leaving, so the simulator is not writing to a closed socket.
    const ok = await openConsole(port).then(
      (con) => {
        con.close();
        return true;
      },
      () => false,
    );
    if (ok) return child.exitCode === null;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function lanConf(o: { dir: string; hookDir: string; port: number; serialPort: number; consolePort: number }): string {
  const auths = 'none md2 md5 straight';
  return `name "bmc1"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${o.port}
    priv_limit admin
    allowed_auths_callback ${auths}
    allowed_auths_user ${auths}
    allowed_auths_operator ${auths}
    allowed_auths_admin ${auths}
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${join(o.dir, 'chassis.sh')} ${o.hookDir}"
  sol "tcp:127.0.0.1:${o.serialPort}" 115200
  console 127.0.0.1 ${o.consolePort}
  user 2 true "${SIM_USER.username}" "${SIM_USER.password}" admin 10 ${auths}
  user 3 true "${SIM_OPERATOR.username}" "${SIM_OPERATOR.password}" operator 10 ${auths}
`;
}

/**
 * chassis_control hook: `<hook-dir> get power boot` prints the state;
 * `<hook-dir> set <item> <value> ...` stores it. Every call is logged.
 */
const HOOK = `#!/bin/sh
d="$1"; shift
echo "$*" >> "$d/calls.log"
op="$1"; shift
case "$op" in
  get)
    for item in "$@"; do
      case "$item" in
        power) echo "power:$(cat "$d/power")";;
        boot) echo "boot:$(cat "$d/boot")";;
      esac
    done;;
  set)
    while [ $# -gt 1 ]; do
      case "$1" in
        power) echo "$2" > "$d/power";;
        boot) echo "$2" > "$d/boot";;
        shutdown) echo 0 > "$d/power";;
        reset) : ;;
      esac
      shift 2
    done;;
  *) exit 1;;
esac
exit 0
`;

const EMU = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
sensor_add 0x20 0 0 35 0x6f event-only
sensor_add 0x20 0 1 0x01 0x01
sensor_set_value 0x20 0 1 ${SIM_SENSORS.inletTemp.raw} 0
sensor_set_threshold 0x20 0 1 settable 111000 0x5a 0x50 0x46 00 00 00
sensor_set_event_support 0x20 0 1 enable scanning per-state 000111111000000 000111111000000 000111111000000 000111111000000
sensor_add 0x20 0 2 0x04 0x01
sensor_set_value 0x20 0 2 ${SIM_SENSORS.fan.raw} 0
sensor_add 0x20 0 3 0x25 0x08
sensor_set_bit_clr_rest 0x20 0 3 1 1 0
mc_enable 0x20
`;

const analog = (n: number, type: string, unit: string, m: number, name: string): string => `sdr type 1
	sensor_owner_id		0x20
	sensor_owner_lun	0
	channel_number		0
	sensor_number		${n}
	entity_id		system_board
	entity_instance		1
	sensor_type		${type}
	init_scanning		true
	init_sensor_type	true
	default_sensor_scan_on	true
	event_reading_type_code	1
	analog_data_format	unsigned
	rate_unit		none
	modifier_unit		none
	percentage		false
	base_unit		${unit}
	modifier_unit_code	unspecified
	linearization		linear
	m			${m}
	tolerance		0
	b			0
	accuracy		1
	accuracy_exp		0
	sensor_direction	input
	r_exp			0
	b_exp			0
	sensor_maximum		255
	sensor_minimum		0
	id_string		"${name}"
endsdr
`;

const SDRS = `sdr type 18
	device_slave_address	0x20
	device_channel_number	0
	chassis			true
	ipmb_event_gen		false
	ipmb_event_recv		false
	fru_inventory		false
	sel			true
	sdr			true
	sensor			true
	entity_id		system_board
	entity_instance		1
	id_string		"Sim BMC"
endsdr
sdr type 3
	sensor_owner_id		0x20
	sensor_owner_lun	0
	channel_number		0
	sensor_number		0
	entity_id		system_board
	entity_instance		1
	sensor_type		Watchdog_2
	event_reading_type_code	0x6f
	id_string		"watchdog"
endsdr
${analog(1, 'Temperature', 'degrees_C', 1, 'Inlet Temp')}
${analog(2, 'Fan', 'RPM', 100, 'Fan 1')}
sdr type 2
	sensor_owner_id		0x20
	sensor_owner_lun	0
	channel_number		0
	sensor_number		3
	entity_id		system_board
	entity_instance		1
	sensor_type		Entity_Presence
	init_scanning		true
	init_sensor_type	true
	default_sensor_scan_on	true
	event_reading_type_code	0x08
	id_string		"PSU Presence"
endsdr
${analog(4, 'Voltage', 'Volts', 1, 'CPU Volt')}
`;
