import { DomainError } from '../../durable-cqrs/index.js';

export class InventoryError extends DomainError {
  static productNotFound(productId: string): InventoryError {
    return new InventoryError('PRODUCT_NOT_FOUND', `Product ${productId} does not exist`);
  }

  /** If-Match named a version the product no longer (or never) had; nothing was changed. */
  static preconditionFailed(productId: string, version: number | null): InventoryError {
    return new InventoryError(
      'PRODUCT_PRECONDITION_FAILED',
      version === null
        ? `Product ${productId} does not exist, so If-Match cannot match`
        : `Product ${productId} has changed: If-Match does not match its current ETag`,
    );
  }

  /** An adjustment would take available stock below zero; nothing was changed. */
  static stockTooLow(productId: string, delta: number, available: number): InventoryError {
    return new InventoryError(
      'PRODUCT_STOCK_TOO_LOW',
      `Product ${productId} has ${available} available: an adjustment of ${delta} would leave less than zero`,
      { available },
    );
  }

  static priceAboveMaximum(unitPrice: string, maxUnitPrice: string): InventoryError {
    return new InventoryError(
      'PRODUCT_PRICE_ABOVE_MAXIMUM',
      `unitPrice ${unitPrice} is above the maximum unit price of ${maxUnitPrice}`,
      { maxUnitPrice },
    );
  }
}
