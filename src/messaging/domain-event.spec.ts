import { OrderCreated } from '../orders/events/order-created.event.js';
import { reviveEvent } from './domain-event.js';

describe('DomainEvent.streamId', () => {
  const event = new OrderCreated('order-1', 'customer-1', null, [], 'EUR');

  it('is named by the event class and is not part of the payload', () => {
    expect(event.streamId).toBe('order-1');
    expect(JSON.parse(JSON.stringify(event))).toEqual({
      orderId: 'order-1',
      customerId: 'customer-1',
      customerEmail: null,
      items: [],
      currency: 'EUR',
    });
  });

  it('survives the round trip through the stored payload', () => {
    const revived = reviveEvent('OrderCreated', JSON.parse(JSON.stringify(event)));
    expect(revived).toBeInstanceOf(OrderCreated);
    expect(revived.streamId).toBe('order-1');
  });
});
