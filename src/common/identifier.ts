import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches } from 'class-validator';

/**
 * Printable text only. \p{C} is every control character (C0, DEL, C1) and every format character,
 * which includes the bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
 * U+2066–U+2069) that make an id display as something other than what it is; with them go
 * unassigned, private-use and lone surrogate code points, and the line and paragraph separators.
 */
export const PRINTABLE_PATTERN = /^[^\p{C}\p{Zl}\p{Zp}]*$/u;

/**
 * Anything but `.` and `..` alone: a path cannot carry those (clients resolve them away, RFC
 * 3986), so they are no identifier.
 */
export const NOT_DOT_SEGMENT_PATTERN = /^(?!\.\.?$)/;

/**
 * An identifier a caller sends (an order id in a path, a productId or customerId in a body or a
 * query): a string of 1 to maxLength printable characters, other than `.` and `..`. Checked in
 * this order, so the first problem found is the one reported.
 */
export function IsIdentifier(maxLength: number): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Length(1, maxLength),
    Matches(PRINTABLE_PATTERN, {
      message: '$property must not contain control or bidirectional formatting characters',
    }),
    Matches(NOT_DOT_SEGMENT_PATTERN, { message: '$property must not be "." or ".."' }),
  );
}
