export interface EmailMessage {
  /** Unique per message; a provider uses it to drop a repeated send. */
  messageId: string;
  to: string;
  subject: string;
  body: string;
}

export interface EmailSender {
  send(message: EmailMessage): Promise<void>;
}

export const EMAIL_SENDER = Symbol('EMAIL_SENDER');

export type NotificationKind = 'CONFIRMATION' | 'FAILURE';

export interface NotificationView {
  notificationId: string;
  orderId: string;
  kind: NotificationKind;
  recipient: string;
  subject: string;
  /** SKIPPED: never sent, for the reason in `skipReason` (the customer's data was erased). */
  status: 'PENDING' | 'SENT' | 'SKIPPED';
  createdAt: string;
  sentAt: string | null;
  skipReason: string | null;
}

/** What an erased e-mail address reads as wherever it was stored. */
export const ERASED_RECIPIENT = '[erased]';
/** Why a notification not sent before its customer's erasure is never sent. */
export const SKIPPED_FOR_ERASURE = "the customer's personal data was erased before it was sent";
