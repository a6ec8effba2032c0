export interface BenchSuite {
  /** Short name used on the command line: `npm run bench -- <name>`. */
  name: string;
  run(): Promise<void>;
}
