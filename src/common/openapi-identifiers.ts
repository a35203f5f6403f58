import { ApiParam } from '@nestjs/swagger';
import { PRINTABLE_PATTERN } from './identifier.js';

/**
 * PRINTABLE_PATTERN for the document. Its `\p{…}` classes need the regular expression's `u` flag,
 * which OpenAPI tools do not all use; so the document lists, as `\uXXXX` ranges, every character
 * of the Basic Multilingual Plane the service refuses (control, format, separators, private use,
 * unassigned and noncharacters, by the Unicode tables of the Node.js that serves it). Beyond the
 * BMP, where such a pattern cannot reach, the description says what is refused. `.` and `..`
 * alone are refused too (a path cannot carry them).
 */
export const PRINTABLE_DOC_PATTERN = ((): string => {
  const ranges: string[] = [];
  const hex = (c: number) => `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
  let start: number | undefined;
  for (let code = 0; code <= 0x10000; code++) {
    const char = String.fromCharCode(code);
    const refused =
      code < 0x10000 && (code < 0xd800 || code > 0xdfff) && !PRINTABLE_PATTERN.test(char);
    if (refused && start === undefined) start = code;
    if (!refused && start !== undefined) {
      ranges.push(start === code - 1 ? hex(start) : `${hex(start)}-${hex(code - 1)}`);
      start = undefined;
    }
  }
  return `^(?!\\.\\.?$)[^${ranges.join('')}]*$`;
})();

/** The schema keywords of a string checked by `IsIdentifier(maxLength)`. */
export function identifierSchema(maxLength: number) {
  return {
    type: 'string',
    minLength: 1,
    maxLength,
    pattern: PRINTABLE_DOC_PATTERN,
    description:
      'Printable characters only: no control, format (such as bidirectional), unassigned, ' +
      'private-use or noncharacter code points (in any plane), nor line or paragraph ' +
      'separators; and not "." or ".." alone',
  } as const;
}

/** A path parameter checked by `IsIdentifier(maxLength)`: 1 to maxLength printable characters. */
export function ApiIdentifierParam(
  name: string,
  maxLength: number,
  example: string,
  description?: string,
): MethodDecorator {
  return ApiParam({
    name,
    description,
    schema: { ...identifierSchema(maxLength), example },
  });
}
