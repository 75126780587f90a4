// A workflow's declared inputs, edited as a list of typed fields and kept as the JSON Schema the server checks runs
// against (`inputSchema`; schemas/input_schema.py). Pure: the form in Inspector.tsx draws from it.

export const INPUT_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

export const INPUT_TYPE_LABELS: Record<InputType, string> = {
  string: 'Text',
  number: 'Number',
  integer: 'Integer',
  boolean: 'Yes / no',
  object: 'Object',
  array: 'List',
};

export interface InputField {
  name: string;
  type: InputType;
  required: boolean;
  description: string;
  /** What else the schema says of this field (enum, minimum…): kept as it was, since this form does not edit it. */
  rest: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The fields of a schema, in its order; a type this form does not know reads as text. */
export function fieldsOf(schema: unknown): InputField[] {
  if (!isObject(schema) || !isObject(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((n): n is string => typeof n === 'string') : []);
  return Object.entries(schema.properties).map(([name, raw]) => {
    const property = isObject(raw) ? raw : {};
    const { type, description, ...rest } = property;
    return {
      name,
      type: (INPUT_TYPES as readonly unknown[]).includes(type) ? (type as InputType) : 'string',
      required: required.has(name),
      description: typeof description === 'string' ? description : '',
      rest,
    };
  });
}

/** The schema for `fields` (undefined for none: the workflow then takes any inputs). Fields without a name are
 * left out until they have one; what the schema said beyond its fields is kept. */
export function schemaOf(fields: readonly InputField[], previous?: unknown): Record<string, unknown> | undefined {
  const named = fields.filter((f) => f.name.trim() !== '');
  if (named.length === 0) return undefined;
  const base = isObject(previous) ? { ...previous } : {};
  const properties: Record<string, unknown> = {};
  for (const field of named)
    properties[field.name.trim()] = { ...field.rest, type: field.type, ...(field.description.trim() ? { description: field.description.trim() } : {}) };
  const required = named.filter((f) => f.required).map((f) => f.name.trim());
  const { required: _old, ...rest } = base;
  return { ...rest, type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
}

/** What is wrong with the list as typed, in words (null when nothing is). */
export function fieldsProblem(fields: readonly InputField[]): string | null {
  const names = fields.map((f) => f.name.trim()).filter(Boolean);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) return `Input “${twice}” appears twice`;
  const bad = names.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  if (bad) return `Input “${bad}”: use letters, digits and _, starting with a letter (templates read it as {{ ${bad} }})`;
  return null;
}

/** What Run asks for: every declared input (required ones first), then what the templates read besides. */
export function promptedInputs(schema: unknown, read: readonly string[]): string[] {
  const declared = fieldsOf(schema).sort((a, b) => Number(b.required) - Number(a.required)).map((f) => f.name);
  return [...declared, ...read.filter((path) => !declared.includes(path))];
}

/** A typed value from what was typed in the Run dialog: a number, true/false, or JSON for an object or a list;
 * left as text when it does not read as that type (the server then says which input is wrong, and why). */
export function typedValue(text: string, type: InputType | undefined): unknown {
  const trimmed = text.trim();
  if (type === 'number' || type === 'integer') return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : text;
  if (type === 'boolean') return trimmed === 'true' ? true : trimmed === 'false' ? false : text;
  if (type === 'object' || type === 'array') {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
