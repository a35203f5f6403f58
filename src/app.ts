import type { Server } from 'node:http';
import { UnsupportedMediaTypeException, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { AppModule } from './app.module.js';
import { answerUnparsableRequests } from './common/client-errors.js';
import { serveConsole } from './console/console-assets.js';
import { backPressure, MessagingRuntime } from './durable-cqrs/index.js';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware.js';
import { Metrics } from './metrics/metrics.js';
import { correlationMiddleware } from './common/correlation.middleware.js';
import { AppLogger } from './common/logging/app-logger.js';
import { requestLog } from './common/logging/request-log.js';
import { completeDocument, documentConfig } from './common/openapi.js';
import { inspectJsonBody, verifyJsonText } from './common/json-body.js';
import { flattenValidationErrors, RequestValidationError } from './common/problem.js';
import { ProblemDetailsFilter } from './common/problem.filter.js';
import { AppConfig } from './config/app-config.js';

/** Largest accepted request body. */
export const BODY_LIMIT = '100kb';

/**
 * How long a client may take to send what it sends. Past REQUEST_TIMEOUT_MS for the whole request
 * (headers and body) it is answered 408; past HEADERS_TIMEOUT_MS for the headers alone, the same.
 * A client that opens connections and then trickles bytes holds no socket for longer than this.
 * An idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS. They bound the receiving
 * only: the time the service takes to answer is not limited by them.
 */
export const REQUEST_TIMEOUT_MS = 30_000;
export const HEADERS_TIMEOUT_MS = 20_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** Builds the whole application exactly as `npm start` runs it (tests use the same function). */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    // Held until the application's own logger (LOG_LEVEL, LOG_FORMAT) takes over.
    bufferLogs: true,
  });
  configureApp(app);
  return app;
}

/**
 * Everything around the modules: the logger, body parsing, correlation, the request log,
 * validation, problem+json errors and the OpenAPI document (returned). The application must be
 * created with `bodyParser: false`.
 */
export function configureApp(app: NestExpressApplication): OpenAPIObject {
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  const filter = new ProblemDetailsFilter();
  const server = app.getHttpServer() as Server;
  answerUnparsableRequests(server);
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  app.disable('x-powered-by');
  // Express would give every answer a weak ETag (errors and 202s included) and answer 304 to an
  // If-None-Match on any GET. Only a product's version means something as a validator: GET
  // /inventory/{productId} sends it as a strong ETag (and 304 while it matches), the console's
  // files send theirs; nothing else does.
  app.set('etag', false);
  onlyValidatedAnswersAreFresh(app.getHttpAdapter().getInstance() as express.Express);
  // First, so every answer is timed, those given before routing included.
  app.use(httpMetricsMiddleware(app.get(Metrics)));
  // Security headers on every answer, errors included, so first. Helmet's default
  // Content-Security-Policy suits the Swagger UI at /docs and the console at /console: their
  // scripts are files of their own ('self'), and the UI's inline styles are allowed by the
  // default style-src. One directive goes: upgrade-insecure-requests would make a browser fetch
  // the page's scripts and API calls over https while the service itself speaks plain HTTP (on
  // localhost in development, or on a private address behind a proxy that terminates TLS), so
  // the console could not load there. Over https it changes nothing: everything is 'self'.
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );
  app.use(correlationMiddleware);
  if (logger.isEnabled('log')) app.use(requestLog(logger));
  // The console's files, before the body parsers and the API: see serveConsole.
  app.use('/console', serveConsole());
  // Back-pressure before any parsing, so a refused order costs next to nothing.
  app.use(
    backPressure(
      app.get(MessagingRuntime),
      (req) => req.method === 'POST' && req.path === '/orders',
    ),
  );
  app.use(requireJsonBody);
  app.use(
    express.json({
      limit: BODY_LIMIT,
      strict: false,
      type: 'application/json',
      verify: verifyJsonText,
    }),
  );
  app.use(requireObjectBody);
  // Errors before routing never reach Nest's filters: the body checks' refusals and the body
  // parser's (malformed JSON, too large, bad charset) are answered here, by the same filter.
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    filter.respond(error, req, res);
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      stopAtFirstError: true,
      exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
    }),
  );
  app.useGlobalFilters(filter);
  const document = completeDocument(SwaggerModule.createDocument(app, documentConfig()), {
    MAX_UNIT_PRICE: app.get(AppConfig).maxUnitPrice,
  });
  SwaggerModule.setup('docs', app, document);
  return document;
}

/** Express's own test of whether the client's copy is fresh (If-None-Match, If-Modified-Since). */
const expressFresh = Object.getOwnPropertyDescriptor(express.request, 'fresh')!;

/**
 * An answer without a validator is never fresh: Express would answer 304 to `If-None-Match: *`
 * on any GET (a representation exists), though no ETag was ever given for it. Set once on the
 * application's request prototype.
 */
function onlyValidatedAnswersAreFresh(server: express.Express): void {
  Object.defineProperty(server.request, 'fresh', {
    configurable: true,
    get(this: Request): boolean {
      return this.res?.getHeader('ETag') !== undefined && (expressFresh.get!.call(this) as boolean);
    },
  });
}

/** A JSON body must be a plain, well-formed object: see inspectJsonBody. */
function requireObjectBody(req: Request, _res: Response, next: NextFunction): void {
  const problem = req.body === undefined ? undefined : inspectJsonBody(req.body);
  if (!problem) return next();
  next(new RequestValidationError([problem], problem.message));
}

/**
 * A request that sends a body must send it as application/json, as the document says (415
 * otherwise): `application/*+json` types mean more than JSON (a merge patch, a vendor format) and
 * are not read as if they were plain JSON.
 */
function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'];
  if (!hasBody || req.is('application/json')) return next();
  next(new UnsupportedMediaTypeException('Send the request body as application/json'));
}
