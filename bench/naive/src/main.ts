/**
 * The naive reference of the benchmark: the order workflow written the plain @nestjs/cqrs way,
 * everything in memory (no database, no outbox, no retries), as a first version would be. The
 * benchmark compares the service with it. PORT sets the port; GET /stats counts the orders and
 * their final notifications.
 */
import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.useGlobalPipes(
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
  }),
);
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3100), '127.0.0.1');
