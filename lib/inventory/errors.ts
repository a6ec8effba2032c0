/**
 * Inventory errors. An import error names where the bad value is (line and
 * field, as the file spells it) and what was expected; a lookup error names
 * the servers that are not in the inventory and carries HTTP's 404, so an
 * HTTP flow can answer with it as it is.
 */

export class InventoryError extends Error {
  readonly code = 'invalid-input' as const;
  /** 1-based line of the file where the bad value is, when the input was a file. */
  readonly line?: number;
  /** The field as the input names it, e.g. "client_port" or "driver_info.ilo_address". */
  readonly field: string;
  /** The server (entry name) the field belongs to, when known. */
  readonly server?: string;
  readonly statusCode = 400;
  /** The bad value as the message quotes it (" (got "x")"), so it can be left out where the file must not be echoed. */
  readonly got?: string;

  constructor(field: string, message: string, where: { line?: number; server?: string; got?: string } = {}) {
    const at = where.line !== undefined ? `line ${where.line}, ` : '';
    super(`${at}${field}: ${message}${where.got ?? ''}`);
    this.name = 'InventoryError';
    this.field = field;
    this.line = where.line;
    this.server = where.server;
    this.got = where.got;
  }

  /** The same error without the quoted value (for messages that travel on, to logs and Catch nodes). */
  withoutValue(): InventoryError {
    if (!this.got) return this;
    return new InventoryError(this.field, this.message.slice(`${this.line !== undefined ? `line ${this.line}, ` : ''}${this.field}: `.length, this.message.length - this.got.length), { line: this.line, server: this.server });
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, line: this.line, field: this.field, server: this.server };
  }
}

/** One or more server names that the inventory does not hold. */
export class ServerNotFoundError extends Error {
  readonly code = 'not-found' as const;
  readonly statusCode = 404;
  readonly field: string;

  constructor(
    readonly servers: readonly string[],
    inventory: string,
    field = 'msg.server',
  ) {
    const names = servers.map((s) => `"${s.length > 64 ? `${s.slice(0, 64)}…` : s}"`).join(', ');
    super(`${field}: no server named ${names} in ${inventory}`);
    this.name = 'ServerNotFoundError';
    this.field = field;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, statusCode: this.statusCode, message: this.message, servers: this.servers, field: this.field };
  }
}
