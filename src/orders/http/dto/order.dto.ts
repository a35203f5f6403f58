import { ApiProperty } from '@nestjs/swagger';
import { ORDER_STATUSES } from '../../domain/order-status.js';

/** Response shapes, for the OpenAPI document. */
export class OrderLineDto {
  @ApiProperty({ example: 'product-1' }) productId: string;
  @ApiProperty({ type: 'integer', example: 2 }) quantity: number;
  @ApiProperty({ example: '50.00', nullable: true, type: String }) unitPrice: string | null;
}

export class OrderDto {
  @ApiProperty({ format: 'uuid', example: '01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17' }) id: string;
  @ApiProperty({ example: 'customer-42' }) customerId: string;
  @ApiProperty({ nullable: true, type: String, example: 'ada@example.com' })
  customerEmail: string | null;
  @ApiProperty({ enum: ORDER_STATUSES, example: 'COMPLETED' }) status: string;
  @ApiProperty({ type: [OrderLineDto] }) items: OrderLineDto[];
  @ApiProperty({ example: '175.00', nullable: true, type: String }) totalAmount: string | null;
  @ApiProperty({ example: 'USD' }) currency: string;
  @ApiProperty({ nullable: true, type: String }) failureReason: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class OrderPageDto {
  @ApiProperty({ type: [OrderDto] }) items: OrderDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class OrderEventDto {
  @ApiProperty({ type: 'integer', example: 17 }) seq: number;
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ example: 'OrderCreated' }) type: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ example: '3f0c8f0e-5f1e-4c43-9a7e-6c2b0e1d9a55' }) correlationId: string;
  @ApiProperty({ nullable: true, type: String }) causationId: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "W3C traceparent of the event's own span, in the trace of the request it came from",
    example: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  })
  traceparent: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) payload: Record<string, unknown>;
}
