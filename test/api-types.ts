/** The HTTP API's response bodies, as a client sees them. */

export interface FieldProblem {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code?: string;
  errors?: FieldProblem[];
}

export interface OrderView {
  id: string;
  customerId: string;
  customerEmail: string | null;
  status: string;
  items: Array<{ productId: string; quantity: number; unitPrice: string | null }>;
  totalAmount: string | null;
  currency: string;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface OrderPage {
  items: OrderView[];
  nextCursor: string | null;
}

export interface OrderEvent {
  seq: number;
  eventId: string;
  type: string;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  traceparent: string | null;
  payload: Record<string, unknown>;
}

export interface Product {
  productId: string;
  name: string;
  unitPrice: string;
  available: number;
  reserved: number;
  sold: number;
}

export interface Payment {
  paymentId: string;
  orderId: string;
  amount: string;
  currency: string;
  status: string;
}

export interface Notification {
  notificationId: string;
  orderId: string;
  kind: string;
  recipient: string;
  status: string;
}
