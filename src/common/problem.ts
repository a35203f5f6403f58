import { BadRequestException, type ValidationError } from '@nestjs/common';

/** One invalid field of a request: where it is and what is wrong with it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Field problems listed in one answer at most. A body of 10,000 bad items would otherwise be
 * answered with 10,000 entries: an answer far larger than the request, built for free.
 */
export const MAX_LISTED_PROBLEMS = 20;

/**
 * Thrown by the global ValidationPipe, and by the body checks before it: the request's shape is
 * wrong (400). `detail` is the answer's detail when given, else the problems are listed in it.
 */
export class RequestValidationError extends BadRequestException {
  constructor(
    readonly fieldProblems: FieldProblem[],
    readonly detail?: string,
  ) {
    super('The request is not valid');
  }
}

export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      problems.push({ field, message: message.replace(/^property /, '') });
    }
    if (error.children?.length) problems.push(...flattenValidationErrors(error.children, field));
  }
  return problems;
}

/** RFC 9457 problem details. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}
