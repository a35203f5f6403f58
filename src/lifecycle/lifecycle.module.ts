import {
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EraseCustomerDataHandler } from './commands/erase-customer-data/erase-customer-data.handler.js';
import { CustomerErasureController } from './http/customer-erasure.controller.js';
import { RetentionJob } from './retention.job.js';

const commandHandlers = [EraseCustomerDataHandler];

/** Data lifecycle: the retention job and the erasure of a customer's personal data. */
@Module({
  controllers: [CustomerErasureController],
  providers: [RetentionJob, ...commandHandlers],
})
export class LifecycleModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly retention: RetentionJob) {}

  onApplicationBootstrap(): void {
    this.retention.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.retention.stop();
  }
}
