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
  status: 'PENDING' | 'SENT';
  createdAt: string;
  sentAt: string | null;
}
