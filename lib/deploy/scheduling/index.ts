export * from './match';
export * from './pick';
