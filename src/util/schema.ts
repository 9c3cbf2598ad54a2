// A small JSON Schema (draft 2020-12 subset) validator for the schema files the project ships:
// type, enum, const, pattern, minLength/maxLength, minimum/maximum, required, properties,
// additionalProperties, items, minItems/maxItems, oneOf, $ref to #/$defs. Errors name the path.
export interface JsonSchema {
  $ref?: string
  $defs?: Record<string, JsonSchema>
  type?: string | string[]
  enum?: unknown[]
  const?: unknown
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  required?: string[]
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  minItems?: number
  maxItems?: number
  oneOf?: JsonSchema[]
  description?: string
}

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v)
const typeMatches = (v: unknown, t: string) => typeOf(v) === t || (t === 'number' && typeof v === 'number')

/** Returns the first error as "path: what is wrong", or undefined when the value is valid. */
export function validate(value: unknown, schema: JsonSchema, root: JsonSchema = schema, path = '$'): string | undefined {
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/\$defs\//, '')
    const target = root.$defs?.[name]
    if (!target) return `${path}: schema error: unknown $ref ${schema.$ref}`
    return validate(value, target, root, path)
  }
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type]
    if (!types.some((t) => typeMatches(value, t))) return `${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`
  }
  if (schema.const !== undefined && value !== schema.const) return `${path}: expected ${JSON.stringify(schema.const)}, got ${JSON.stringify(value)}`
  if (schema.enum && !schema.enum.includes(value)) return `${path}: expected one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return `${path}: "${value}" is shorter than ${schema.minLength}`
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${path}: "${value}" is longer than ${schema.maxLength} characters`
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) return `${path}: "${value}" does not match ${schema.pattern}${schema.description ? ` (${schema.description})` : ''}`
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${path}: ${value} is below the minimum ${schema.minimum}`
    if (schema.maximum !== undefined && value > schema.maximum) return `${path}: ${value} is above the maximum ${schema.maximum}`
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return `${path}: needs at least ${schema.minItems} item(s)`
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return `${path}: takes at most ${schema.maxItems} item(s)`
    if (schema.items) {
      for (let i = 0; i < value.length; i++) {
        const e = validate(value[i], schema.items, root, `${path}[${i}]`)
        if (e) return e
      }
    }
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>
    for (const r of schema.required ?? []) if (!(r in obj)) return `${path}: missing "${r}"`
    for (const [k, v] of Object.entries(obj)) {
      const sub = schema.properties?.[k]
      if (sub) {
        const e = validate(v, sub, root, `${path}.${k}`)
        if (e) return e
      } else if (schema.additionalProperties === false) {
        return `${path}.${k}: unknown key (known: ${Object.keys(schema.properties ?? {}).join(', ')})`
      } else if (typeof schema.additionalProperties === 'object') {
        const e = validate(v, schema.additionalProperties, root, `${path}.${k}`)
        if (e) return e
      }
    }
  }
  if (schema.oneOf) {
    const errors = schema.oneOf.map((s) => validate(value, s, root, path))
    const ok = errors.filter((e) => e === undefined).length
    if (ok !== 1) return ok === 0 ? errors[0] : `${path}: matches more than one alternative`
  }
  return undefined
}
