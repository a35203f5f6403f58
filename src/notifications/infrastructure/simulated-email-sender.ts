import { setTimeout as delay } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { callingOut } from '../../durable-cqrs/index.js';
import type { EmailMessage, EmailSender } from '../domain/email-sender.port.js';

/**
 * SIMULATED e-mail sender: nothing leaves the machine. Each message takes
 * NOTIFICATION_LATENCY_MS and is written to the log. What was sent is recorded by the
 * notifications module and listed at GET /notifications.
 */
@Injectable()
export class SimulatedEmailSender implements EmailSender {
  private readonly logger = new Logger(SimulatedEmailSender.name);

  constructor(private readonly config: AppConfig) {}

  async send(message: EmailMessage): Promise<void> {
    callingOut('the e-mail sender');
    await delay(this.config.notificationLatencyMs);
    this.logger.debug(`e-mail ${message.messageId} to ${message.to}: ${message.subject}`);
  }
}
