/**
 * A validator for the subset of JSON Schema (2020-12) that docs/report.schema.json uses: type,
 * properties, required, additionalProperties (boolean), enum, const, items, minItems, maxItems,
 * minimum, oneOf, and local $ref into $defs. Written for the tests rather than pulling in a full
 * validator as a dependency; a keyword outside the subset is an error, so the schema cannot grow
 * a constraint that the tests silently ignore.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$schema', 'title', 'description', '$defs',
  'type', 'properties', 'required', 'additionalProperties', 'enum', 'const', 'items', 'minItems', 'maxItems', 'minimum', 'oneOf', '$ref',
]);

/** Error messages (empty when `value` is valid), each with the JSON path of the offending value. */
export function validate(schema: Schema, value: unknown): string[] {
  const errors: string[] = [];
  check(schema, schema, value, '$', errors);
  return errors;
}

function check(root: Schema, s: Schema, v: unknown, path: string, errors: string[]): void {
  for (const k of Object.keys(s)) if (!KNOWN.has(k)) throw new Error(`schema keyword '${k}' at ${path} is outside the supported subset`);
  if (typeof s.$ref === 'string') {
    const m = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(s.$ref);
    const target = m ? (root.$defs as Record<string, Schema> | undefined)?.[m[1]!] : undefined;
    if (!target) throw new Error(`unresolvable $ref '${s.$ref}'`);
    check(root, target, v, path, errors);
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => hasType(v, t))) errors.push(`${path}: expected ${types.join(' | ')}, got ${describe(v)}`);
  }
  if ('const' in s && !deepEqual(v, s.const)) errors.push(`${path}: expected ${JSON.stringify(s.const)}, got ${JSON.stringify(v)}`);
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, v))) errors.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
  if (typeof s.minimum === 'number' && typeof v === 'number' && v < s.minimum) errors.push(`${path}: ${v} < minimum ${s.minimum}`);
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems) errors.push(`${path}: ${v.length} items < minItems ${s.minItems}`);
    if (typeof s.maxItems === 'number' && v.length > s.maxItems) errors.push(`${path}: ${v.length} items > maxItems ${s.maxItems}`);
    if (s.items) v.forEach((x, i) => check(root, s.items as Schema, x, `${path}[${i}]`, errors));
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const obj = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in obj)) errors.push(`${path}: missing required '${r}'`);
    for (const [k, x] of Object.entries(obj)) {
      if (props[k]) check(root, props[k], x, `${path}.${k}`, errors);
      else if (s.additionalProperties === false) errors.push(`${path}: unexpected property '${k}'`);
    }
  }
  if (Array.isArray(s.oneOf)) {
    const passing = (s.oneOf as Schema[]).map((sub) => validate1(root, sub, v, path));
    const ok = passing.filter((e) => e.length === 0).length;
    if (ok !== 1) errors.push(`${path}: matches ${ok} of the oneOf alternatives, expected exactly 1 (${passing.map((e) => e[0] ?? 'ok').join('; ')})`);
  }
}

function validate1(root: Schema, s: Schema, v: unknown, path: string): string[] {
  const errors: string[] = [];
  check(root, s, v, path, errors);
  return errors;
}

function hasType(v: unknown, t: string): boolean {
  switch (t) {
    case 'null':
      return v === null;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    default:
      throw new Error(`unknown type '${t}'`);
  }
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
