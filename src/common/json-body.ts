import { isUtf8 } from 'node:buffer';
import { RequestValidationError } from './problem.js';

/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_BODY_DEPTH = 16;

/** Keys that are never data: they name the prototype chain or built-in methods of objects. */
const FORBIDDEN_KEYS = new Set([
  '__proto__',
  'prototype',
  ...Object.getOwnPropertyNames(Object.prototype),
]);

export interface BodyProblem {
  field: string;
  message: string;
}

/**
 * Checks a parsed JSON body before any validation: an object at the top, nesting no deeper than
 * MAX_BODY_DEPTH, no prototype or built-in method names as keys, and only well-formed Unicode in
 * strings (no lone surrogates). Iterative, so a hostile body cannot exhaust the stack.
 */
export function inspectJsonBody(body: unknown): BodyProblem | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { field: '', message: 'the request body must be a JSON object' };
  }
  const stack: Array<{ value: unknown; path: string; depth: number }> = [
    { value: body, path: '', depth: 1 },
  ];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) {
        return { field: path, message: `${path} must be well-formed Unicode text` };
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_BODY_DEPTH) {
      const field = holder(path);
      return { field, message: `${field} is nested deeper than ${MAX_BODY_DEPTH} levels` };
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) {
        return { field: childPath, message: `${childPath} is not an allowed name` };
      }
      if (!key.isWellFormed()) {
        return { field: path, message: 'field names must be well-formed Unicode text' };
      }
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * body-parser `verify`: a JSON body must be valid UTF-8 (no silent replacement characters) and
 * name no key twice in one object (JSON.parse would keep the last one silently, so what a proxy
 * or a log reads could differ from what the service acts on).
 */
export function verifyJsonText(_req: unknown, _res: unknown, buffer: Buffer): void {
  if (!isUtf8(buffer)) {
    throw Object.assign(new Error('The request body is not valid UTF-8'), {
      status: 400,
      statusCode: 400,
      type: 'encoding.invalid',
      expose: true,
    });
  }
  const duplicate = duplicateKeyOf(buffer.toString('utf8'));
  if (duplicate !== undefined) {
    const message = `${duplicate} is given more than once`;
    throw new RequestValidationError([{ field: duplicate, message }], message);
  }
}

interface Open {
  /** The keys seen so far (an object), or null (an array). */
  keys: Set<string> | null;
  path: string;
  /** An object's last key, or an array's current index. */
  at: string | number;
}

/**
 * The path (`items.1.quantity`) of the first key named twice in one object of a JSON text, or
 * undefined. It reads only strings and brackets; a text that is not JSON is left to the parser
 * (undefined). Keys compare as JSON.parse decodes them (`"a"` and `"\u0061"` are one key).
 */
export function duplicateKeyOf(text: string): string | undefined {
  const open: Open[] = [];
  const childPath = (parent: Open | undefined) =>
    parent === undefined ? '' : parent.path ? `${parent.path}.${parent.at}` : String(parent.at);
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length) return undefined;
      let after = end + 1;
      while (after < text.length && ' \t\n\r'.includes(text[after])) after++;
      const top = open.at(-1);
      if (text[after] === ':' && top?.keys) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          return undefined;
        }
        top.at = key;
        if (top.keys.has(key)) return childPath(top);
        top.keys.add(key);
      }
      i = end;
    } else if (char === '{' || char === '[') {
      const path = childPath(open.at(-1));
      open.push({ keys: char === '{' ? new Set() : null, path, at: 0 });
    } else if (char === '}' || char === ']') {
      open.pop();
    } else if (char === ',') {
      const top = open.at(-1);
      if (top && !top.keys) top.at = Number(top.at) + 1;
    }
  }
  return undefined;
}

/**
 * The field that holds an over-deep value: `customerId` for `customerId.0.0.0…`,
 * `items.0.extra` for `items.0.extra.0.0…` (an index followed by a name belongs to the field).
 */
function holder(path: string): string {
  const parts = path.split('.');
  const numeric = (part: string | undefined) => part !== undefined && /^\d+$/.test(part);
  let end = 1;
  while (end + 1 < parts.length && numeric(parts[end]) && !numeric(parts[end + 1])) end += 2;
  return parts.slice(0, end).join('.');
}
