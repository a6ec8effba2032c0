/**
 * A fleet inventory: servers and how to reach their iLOs, their import and
 * export (CSV, JSON, YAML in Bifrost's shape), discovery of iLOs in an
 * address range, and one shared iLO client per server.
 */
export * from './errors';
export * from './model';
export * from './import';
export * from './targets';
export * from './discovery';
export * from './clients';
export { CSV_COLUMNS } from './formats/csv';
