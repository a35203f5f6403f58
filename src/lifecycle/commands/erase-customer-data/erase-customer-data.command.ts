import { Command } from '@nestjs/cqrs';

export interface ErasureReport {
  customerId: string;
  /** Orders whose e-mail address was erased. */
  orders: number;
  /** Notifications whose recipient address was erased. */
  notifications: number;
  /** Of those, the ones not sent yet: they are never sent. */
  notificationsSkipped: number;
  /** Events whose payload held the address. */
  events: number;
  erasedAt: string;
}

/** Erases a customer's personal data (its e-mail address) everywhere it is stored. */
export class EraseCustomerData extends Command<ErasureReport> {
  constructor(readonly customerId: string) {
    super();
  }
}
