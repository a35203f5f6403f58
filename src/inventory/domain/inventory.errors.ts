import { DomainError } from '../../common/domain-error.js';

export class InventoryError extends DomainError {
  static productNotFound(productId: string): InventoryError {
    return new InventoryError('PRODUCT_NOT_FOUND', `Product ${productId} does not exist`);
  }

  static priceAboveMaximum(unitPrice: string, maxUnitPrice: string): InventoryError {
    return new InventoryError(
      'PRODUCT_PRICE_ABOVE_MAXIMUM',
      `unitPrice ${unitPrice} is above the maximum unit price of ${maxUnitPrice}`,
      { maxUnitPrice },
    );
  }
}
