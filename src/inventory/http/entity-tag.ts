import type { VersionCondition } from '../domain/catalog.js';

/** A product's strong ETag: its version, which every change of the product raises. */
export function entityTag(version: number): string {
  return `"${version}"`;
}

const TAG = /(W\/)?"([^"]*)"/g;

/**
 * The condition of an If-Match header (RFC 9110, 13.1.1): `*`, or the versions of its strong
 * tags. If-Match compares strongly, so a weak tag never matches; nor does a tag this service did
 * not make, so a header without one of ours leaves an empty list, which nothing satisfies.
 */
export function parseIfMatch(header: string | undefined): VersionCondition | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return '*';
  const versions: number[] = [];
  for (const [, weak, opaque] of header.matchAll(TAG)) {
    if (!weak && /^[1-9]\d{0,15}$/.test(opaque)) versions.push(Number(opaque));
  }
  return versions;
}
