/** Injection token of the open Database ({ db, dialect }). */
export const DATABASE = Symbol('DATABASE');
