import { Module } from '@nestjs/common';
import { OverviewController } from './overview.controller.js';

/**
 * The operator console: its page and scripts (served by serveConsole, see app.ts) and the one
 * endpoint it needs that the rest of the API lacks, the overview. Everything else it shows comes
 * from the existing API.
 */
@Module({ controllers: [OverviewController] })
export class ConsoleModule {}
