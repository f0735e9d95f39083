/**
 * A small typed command-line parser: `--name value`, `--name=value`, `--flag`, `--no-flag`,
 * `-h`/`--help`. Unknown options fail with the closest valid name and the full list.
 */

import { editDistance } from '@pixelcnn/quickdraw-data';

/** A usage error: the CLI prints its message (no stack) and exits with status 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionType = 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'numberList';

export interface OptionSpec {
  /** kebab-case long name, without the dashes. */
  name: string;
  type: OptionType;
  description: string;
  /** Shown in help; also the value when the option is absent (unless undefined). */
  default?: string | number | boolean | readonly string[] | readonly number[];
  /** Allowed values (string options). */
  choices?: readonly string[];
  /** Inclusive numeric bounds (number/integer, and each element of numberList). */
  min?: number;
  max?: number;
  /** Strict lower bound (e.g. learning rate > 0). */
  exclusiveMin?: number;
  /** Value placeholder for help, e.g. "DIR". */
  metavar?: string;
  /** Help section heading. */
  group?: string;
}

export type OptionValue = string | number | boolean | string[] | number[] | undefined;

export interface ParsedArgs {
  /** camelCase option name -> value (default when absent). */
  values: Record<string, OptionValue>;
  /** camelCase names of options given on the command line. */
  explicit: Set<string>;
  positionals: string[];
  help: boolean;
}

/** `num-logistic-mix` -> `numLogisticMix`. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The candidate closest to `word` (edit distance, or a prefix/substring match), or undefined
 * when nothing is reasonably close.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    let score = editDistance(word, c);
    if (word.length >= 3 && (c.startsWith(word) || c.includes(word) || word.includes(c))) {
      score = Math.min(score, 1);
    }
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestScore <= limit ? best : undefined;
}

function parseNumber(raw: string, spec: OptionSpec, integer: boolean, where: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) {
    throw new UsageError(`${where}: expected a number, got '${raw}'`);
  }
  if (integer && !Number.isInteger(v)) {
    throw new UsageError(`${where}: expected an integer, got '${raw}'`);
  }
  if (spec.min !== undefined && v < spec.min) {
    throw new UsageError(`${where}: must be >= ${spec.min}, got ${raw}`);
  }
  if (spec.max !== undefined && v > spec.max) {
    throw new UsageError(`${where}: must be <= ${spec.max}, got ${raw}`);
  }
  if (spec.exclusiveMin !== undefined && v <= spec.exclusiveMin) {
    throw new UsageError(`${where}: must be > ${spec.exclusiveMin}, got ${raw}`);
  }
  return v;
}

function convert(raw: string, spec: OptionSpec): OptionValue {
  const where = `option --${spec.name}`;
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) {
        const near = closest(raw, spec.choices);
        throw new UsageError(
          `${where}: '${raw}' is not one of ${spec.choices.join(', ')}${near ? ` (did you mean '${near}'?)` : ''}`,
        );
      }
      return raw;
    case 'number':
      return parseNumber(raw, spec, false, where);
    case 'integer':
      return parseNumber(raw, spec, true, where);
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case 'numberList':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
        .map((s) => parseNumber(s, spec, true, where));
    case 'boolean': {
      const lower = raw.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off'].includes(lower)) return false;
      throw new UsageError(`${where}: expected true or false, got '${raw}'`);
    }
  }
}

/**
 * Parse `argv` (the arguments after the subcommand) against `specs`.
 * @param command shown in error messages, e.g. "pixelcnn train".
 */
export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  command: string,
): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: Record<string, OptionValue> = {};
  const explicit = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  for (const s of specs) {
    const d = s.default;
    values[camelCase(s.name)] = Array.isArray(d) ? [...d] : (d as OptionValue);
  }
  const unknown = (name: string): never => {
    const names = specs.map((s) => s.name);
    const near = closest(name, [...names, 'help']);
    throw new UsageError(
      `unknown option --${name} for '${command}'${near ? `; did you mean --${near}?` : ''}\n` +
        `valid options: ${names.map((n) => `--${n}`).join(', ')}, --help`,
    );
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
        throw new UsageError(
          `unknown option ${arg} for '${command}': options are long (--name); run '${command} --help'`,
        );
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let inline: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-')) {
      const positive = byName.get(name.slice(3));
      if (positive?.type === 'boolean') {
        if (inline !== undefined) {
          throw new UsageError(`option --${name} takes no value`);
        }
        spec = positive;
        name = positive.name;
        inline = 'false';
      }
    }
    if (!spec) unknown(name);
    const s = spec as OptionSpec;
    let raw: string;
    if (inline !== undefined) raw = inline;
    else if (s.type === 'boolean') raw = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        throw new UsageError(
          `option --${name} needs a value${s.metavar ? ` (${s.metavar})` : ''}: ${s.description}`,
        );
      }
      raw = next;
      i++;
    }
    const key = camelCase(s.name);
    if (explicit.has(key)) {
      throw new UsageError(`option --${name} given more than once`);
    }
    values[key] = convert(raw, s);
    explicit.add(key);
  }
  return { values, explicit, positionals, help };
}

function formatDefault(d: OptionSpec['default']): string {
  if (d === undefined) return '';
  if (Array.isArray(d)) return d.join(',');
  return String(d);
}

/** Help text: usage line, description, then options grouped, aligned in two columns. */
export function formatHelp(
  command: string,
  summary: string,
  specs: readonly OptionSpec[],
  footer = '',
): string {
  const lines = [`Usage: ${command} [options]`, '', summary, ''];
  const groups = new Map<string, OptionSpec[]>();
  for (const s of specs) {
    const g = s.group ?? 'Options';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(s);
  }
  const left = (s: OptionSpec) => {
    const meta =
      s.type === 'boolean'
        ? ''
        : ` ${s.metavar ?? (s.choices ? s.choices.join('|') : s.type.toUpperCase())}`;
    return `  --${s.type === 'boolean' ? `[no-]${s.name}` : s.name}${meta}`;
  };
  const width = Math.min(44, Math.max(...specs.map((s) => left(s).length), 10) + 2);
  for (const [g, list] of groups) {
    lines.push(`${g}:`);
    for (const s of list) {
      const l = left(s);
      const d = formatDefault(s.default);
      const text = `${s.description}${d !== '' ? ` (default: ${d})` : ''}`;
      lines.push(l.length >= width ? `${l}\n${' '.repeat(width)}${text}` : l.padEnd(width) + text);
    }
    lines.push('');
  }
  lines.push(`${'  -h, --help'.padEnd(width)}show this help`);
  if (footer) lines.push('', footer);
  return `${lines.join('\n')}\n`;
}

/**
 * A subcommand's arguments, with what every `pixelcnn` command does first: `--help` writes its
 * help (usage, `summary`, the options, `footer`) to `out` and gives `undefined` (the command
 * exits 0); a positional argument is refused (options start with --).
 */
export function parseCommand(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  command: string,
  help: { summary: string; footer?: string; out: { write(s: string): unknown } },
): ParsedArgs | undefined {
  const parsed = parseArgs(argv, specs, command);
  if (parsed.help) {
    help.out.write(formatHelp(command, help.summary, specs, help.footer));
    return undefined;
  }
  if (parsed.positionals.length) {
    throw new UsageError(
      `unexpected argument '${parsed.positionals[0]}' for '${command}' (options start with --)`,
    );
  }
  return parsed;
}
