/**
 * ilo-inventory: a fleet's inventory from and to messages. Import a CSV,
 * JSON or YAML file (msg.payload) into the running fleet, all or nothing;
 * export it (no credential); list its servers; discover iLOs in an address
 * range. The imported file never travels on: msg.payload is replaced by the
 * import's summary, and taken off the message before any error is reported.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { BmcError, invalidInput } from '../../lib/bmc';
import { discoverIlos, parseFormat, parseTargets, suggestedName, type ImportMode } from '../../lib/inventory';
import { STATUS, handleInput, pick } from '../common/node-red';
import type { IloFleetNode } from '../ilo-fleet/types';

const ACTIONS = ['import', 'export', 'list', 'discover'] as const;
type Action = (typeof ACTIONS)[number];

interface IloInventoryDef extends NodeDef {
  fleet: string;
  /** An action, or "msg" for msg.action. */
  action: Action | 'msg';
  /** auto | csv | json | yaml, or "msg" for msg.format. */
  format: string;
  /** merge | replace, or "msg" for msg.mode. */
  mode: string;
  /** Addresses to probe; empty: msg.range. */
  range: string;
  /** Seconds for each step of a probe. */
  timeout: string | number;
  concurrency: string | number;
}

interface InventoryMessage extends NodeMessageInFlow {
  action?: unknown;
  format?: unknown;
  mode?: unknown;
  range?: unknown;
  filename?: string;
}

function fileText(payload: unknown): string | Buffer {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'object' && payload !== null) return JSON.stringify(payload);
  throw invalidInput('msg.payload', 'the inventory file: text, a Buffer, or a Bifrost-style object');
}

export = function register(RED: NodeAPI): void {
  function IloInventory(this: Node, def: IloInventoryDef): void {
    RED.nodes.createNode(this, def);
    handleInput<InventoryMessage>(this, async (msg, signal) => {
      const fleet = def.fleet ? (RED.nodes.getNode(def.fleet) as IloFleetNode | null) : null;
      if (!fleet || typeof fleet.importInventory !== 'function') throw new BmcError('invalid-input', 'fleet: no fleet (ilo-fleet) is selected, or it is disabled', { field: 'fleet' });
      const a = pick(def.action, msg.action, 'msg.action', 'action');
      if (!(ACTIONS as readonly unknown[]).includes(a.value)) throw invalidInput(a.field, `one of ${ACTIONS.join(', ')}`, a.value);
      const action = a.value as Action;
      // "auto" lets msg.format choose; without one, import reads the content and export writes CSV.
      const f = pick(def.format === 'auto' ? '' : def.format, msg.format, 'msg.format', 'format');
      switch (action) {
        case 'import': {
          // The file may hold passwords: off the message before anything can fail.
          const text = fileText(msg.payload);
          delete msg.payload;
          const m = pick(def.mode, msg.mode, 'msg.mode', 'mode');
          const mode = (m.value === undefined || m.value === '' ? 'merge' : m.value) as ImportMode;
          if (mode !== 'merge' && mode !== 'replace') throw invalidInput(m.field, 'merge or replace', m.value);
          const plan = fleet.importInventory(text, { format: parseFormat(f.value, f.field), mode });
          msg.payload = { fleet: fleet.label, servers: plan.servers.length, added: plan.added, updated: plan.updated, removed: plan.removed };
          this.status(STATUS.ok(`${plan.servers.length} servers (+${plan.added.length})`));
          return;
        }
        case 'export': {
          const format = parseFormat(f.value, f.field);
          const fmt = format === 'auto' ? 'csv' : format;
          msg.payload = fleet.exportInventory(fmt);
          msg.format = fmt;
          msg.filename = `${fleet.label.replace(/[^A-Za-z0-9._-]/g, '_')}.${fmt}`;
          this.status(STATUS.ok(`${fleet.servers().length} servers`));
          return;
        }
        case 'list':
          msg.payload = fleet.servers().map(({ id: _id, ...s }) => s);
          this.status(STATUS.ok(`${fleet.servers().length} servers`));
          return;
        case 'discover': {
          const r = pick(def.range?.trim(), msg.range, 'msg.range', 'range');
          const targets = parseTargets(Array.isArray(r.value) ? (r.value as string[]) : typeof r.value === 'string' ? r.value : '', { field: r.field });
          const timeoutS = def.timeout === '' || def.timeout === undefined ? 3 : Number(def.timeout);
          const concurrency = def.concurrency === '' || def.concurrency === undefined ? 16 : Number(def.concurrency);
          if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw invalidInput('timeout', 'a number of seconds greater than 0', def.timeout);
          if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw invalidInput('concurrency', 'a whole number from 1 to 256', def.concurrency);
          let done = 0;
          this.status(STATUS.busy(`0/${targets.length}…`));
          const results = await discoverIlos(targets, { concurrency, timeoutMs: Math.round(timeoutS * 1000), signal, onResult: () => this.status(STATUS.busy(`${++done}/${targets.length}…`)) });
          const known = new Set(fleet.servers().map((s) => `${s.host.toLowerCase()}:${s.port}`));
          msg.payload = results.map((x) => (x.status === 'ilo' ? { ...x, name: suggestedName(x), inFleet: known.has(`${x.host.toLowerCase()}:${x.port}`) } : x));
          this.status(STATUS.ok(`${results.filter((x) => x.status === 'ilo').length} iLOs in ${targets.length}`));
          return;
        }
      }
    });
  }

  RED.nodes.registerType('ilo-inventory', IloInventory);
};
