import { AuthError } from '../../auth/auth.errors.js';
import type { Principal } from '../../auth/principal.js';
import { RequestValidationError } from '../../common/problem.js';

/**
 * The customer a request acts for: a customer's own id (its token's sub; naming another is
 * refused), or, for an admin, the customer it names.
 */
export function customerOf(principal: Principal, named: string | undefined): string {
  if (principal.role === 'admin') {
    if (named === undefined) {
      throw new RequestValidationError([
        { field: 'customerId', message: 'customerId is required when an admin places an order' },
      ]);
    }
    return named;
  }
  if (named !== undefined && named !== principal.sub) {
    throw AuthError.forbidden(`act for customer ${named}`);
  }
  return principal.sub;
}
