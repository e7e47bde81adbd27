/**
 * A config problem as data: where it is and what to do about it. Every check
 * (YAML syntax, schema, cross-field rules) yields these; only config/format.ts prints them.
 */
export type ConfigPath = ReadonlyArray<string | number>;

export interface Problem {
  file: string;
  line: number;
  col: number;
  path: ConfigPath;
  message: string;
  hint?: string;
}
