// Checks a value against a JSON Schema the server publishes (a node type's configSchema, the settings schema)
// and says what is wrong in words a form can show beside the field. The schemas are pydantic's (draft
// 2020-12, `$defs`, `anyOf` for optional fields), so the rules live in Python and are not written again here.
// What a schema cannot say (a URL's scheme, a header's name) the server's validation reports.
//
// The validators of every published schema are compiled at build time (validators.gen.ts, `npm run gen:types`):
// the gateway's content policy forbids eval, which Ajv's compiler needs. A schema the build did not see (a node
// type registered in Python since) is compiled here only where eval is allowed (tests, a dev server); in the
// served builder its checks come from the server's validation.

import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { isPlainObject } from './document';
import type { JsonSchema } from './nodeTypes';
import { precompiledValidator } from './validators.gen';

export interface SchemaProblem {
  /** Where in the value, e.g. `['timeoutMs']` or `['retry', 'maxAttempts']`. */
  path: string[];
  message: string;
}

// The same options as the build's (scripts/gen-validators.mjs): formats are checked by the server; unknown
// keywords pydantic may emit are ignored, not fatal.
let ajv: Ajv2020 | null = null;
const compiled = new WeakMap<object, ValidateFunction | null>();

function validatorFor(schema: JsonSchema): ValidateFunction | null {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = (precompiledValidator(schema) as ValidateFunction | undefined) ?? compileHere(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

function compileHere(schema: JsonSchema): ValidateFunction | null {
  try {
    ajv ??= new Ajv2020({ allErrors: true, strict: false, verbose: true, validateFormats: false });
    return ajv.compile(schema);
  } catch (error) {
    // No eval here (the content policy), or a schema Ajv cannot read: the server checks it on every validate.
    console.info('This node type is checked by the server only', error);
    return null;
  }
}

/** One problem per place in `value`, worded with `labelFor(path)` as the subject. */
export function schemaProblems(
  schema: JsonSchema,
  value: unknown,
  labelFor: (path: string[]) => string,
): SchemaProblem[] {
  const validate = validatorFor(schema);
  if (!validate || validate(value)) return [];
  const errors = (validate.errors ?? []).map((error) => ({ error, path: pathOf(error) }));
  const byPath = new Map<string, { error: ErrorObject; path: string[] }[]>();
  for (const item of errors) {
    if (item.error.keyword === 'anyOf' || item.error.keyword === 'oneOf') continue;
    const key = item.path.join('\u0000');
    byPath.set(key, [...(byPath.get(key) ?? []), item]);
  }
  const problems: SchemaProblem[] = [];
  const keys = [...byPath.keys()];
  for (const [key, items] of byPath) {
    // `anyOf: [Model, null]` with a model that fails inside: the inner problem says it; "must be null" does not.
    const deeper = keys.some((other) => other !== key && (key === '' || other.startsWith(`${key}\u0000`)));
    if (deeper && items.every((i) => i.error.keyword === 'type')) continue;
    const chosen = mostTelling(items.map((i) => i.error));
    if (chosen) problems.push({ path: items[0]!.path, message: messageOf(chosen, labelFor(items[0]!.path)) });
  }
  return problems;
}

/** JSON pointer `/a/b~1c` → ['a', 'b/c']; a missing property is named at its own path. */
function pathOf(error: ErrorObject): string[] {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required' && typeof error.params.missingProperty === 'string') path.push(error.params.missingProperty);
  return path;
}

/**
 * An optional field is `anyOf: [X, null]`, so a bad value fails every branch: "must be <= 300000" and
 * "must be null" and "must be integer". The error that says the most is the one that is not about the type,
 * and among type errors, the one that does not ask for null.
 */
function mostTelling(errors: ErrorObject[]): ErrorObject | undefined {
  const notType = errors.find((e) => e.keyword !== 'type');
  if (notType) return notType;
  return errors.find((e) => e.params.type !== 'null') ?? errors[0];
}

const num = (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n));
const plural = (n: number, one: string, many: string) => (n === 1 ? one : `${n.toLocaleString('en-US')} ${many}`);

function messageOf(error: ErrorObject, label: string): string {
  const params = error.params as Record<string, unknown>;
  const parent = isPlainObject(error.parentSchema) ? error.parentSchema : {};
  switch (error.keyword) {
    case 'required':
      return `${label} is required`;
    case 'type':
      return `${label} ${typeWords(String(params.type))}`;
    case 'minLength':
      return params.limit === 1 ? `${label} is required` : `${label} must be at least ${num(params.limit)} characters`;
    case 'maxLength':
      return `${label} must be at most ${num(params.limit)} characters`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${label} ${rangeWords(parent)}`;
    case 'enum':
      return `${label} must be one of ${(Array.isArray(params.allowedValues) ? params.allowedValues : []).map(String).join(', ')}`;
    case 'const':
      return `${label} must be ${JSON.stringify(params.allowedValue)}`;
    case 'pattern':
      return `${label} has characters that are not allowed`;
    case 'minItems':
    case 'minProperties':
      return `${label} needs at least ${plural(Number(params.limit), 'one entry', 'entries')}`;
    case 'maxItems':
    case 'maxProperties':
      return `${label} can have at most ${plural(Number(params.limit), 'one entry', 'entries')}`;
    case 'uniqueItems':
      return `${label} has the same entry twice`;
    case 'additionalProperties':
      return `${label}: “${String(params.additionalProperty)}” is not expected here`;
    default:
      return `${label} ${error.message ?? 'is not valid'}`;
  }
}

function typeWords(type: string): string {
  const first = type.split(',')[0] ?? type;
  switch (first) {
    case 'integer':
      return 'must be a whole number';
    case 'number':
      return 'must be a number';
    case 'string':
      return 'must be text';
    case 'boolean':
      return 'must be on or off';
    case 'object':
      return 'must be a set of names and values';
    case 'array':
      return 'must be a list';
    default:
      return `must be ${first}`;
  }
}

/** "must be between 1 and 300,000", read from the field's own bounds so both ends are named. */
export function rangeWords(schema: JsonSchema): string {
  const low =
    typeof schema.minimum === 'number'
      ? { n: schema.minimum, words: 'at least' }
      : typeof schema.exclusiveMinimum === 'number'
        ? { n: schema.exclusiveMinimum, words: 'more than' }
        : null;
  const high =
    typeof schema.maximum === 'number'
      ? { n: schema.maximum, words: 'at most' }
      : typeof schema.exclusiveMaximum === 'number'
        ? { n: schema.exclusiveMaximum, words: 'less than' }
        : null;
  if (low && high && low.words === 'at least' && high.words === 'at most') return `must be between ${num(low.n)} and ${num(high.n)}`;
  if (low && high) return `must be ${low.words} ${num(low.n)} and ${high.words} ${num(high.n)}`;
  if (low) return `must be ${low.words} ${num(low.n)}`;
  if (high) return `must be ${high.words} ${num(high.n)}`;
  return 'is out of range';
}
