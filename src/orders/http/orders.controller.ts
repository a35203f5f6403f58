import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { ApiBodyProblems, ApiDoc, ApiProblems } from '../../common/openapi.js';
import { ApiIdentifierParam } from '../../common/openapi-identifiers.js';
import type { Request, Response } from 'express';
import { preferredWait } from '../../common/prefer.js';
import { CurrentPrincipal, type Principal } from '../../auth/principal.js';
import { CancelOrder } from '../commands/cancel-order/cancel-order.command.js';
import { PlaceOrder } from '../commands/place-order/place-order.command.js';
import { GetOrderEvents } from '../queries/get-order-events/get-order-events.query.js';
import { OrderProgress } from '../queries/order-progress/order-progress.js';
import { visibleOrder } from '../queries/get-order/visible-order.js';
import type { OrderPage } from '../queries/list-orders/list-orders.query.js';
import { ListOrders } from '../queries/list-orders/list-orders.query.js';
import { toOrderView, type OrderEventView, type OrderView } from '../queries/order.view.js';
import { CancelOrderDto, ListOrdersDto, OrderIdParam } from './dto/list-orders.dto.js';
import { OrderDto, OrderEventDto, OrderPageDto } from './dto/order.dto.js';
import { PlaceOrderDto } from './dto/place-order.dto.js';
import { customerOf } from './customer-of.js';
import { OrderEventStream } from './order-event-stream.js';
import {
  ApiIdempotencyKeyHeader,
  ApiLastEventIdHeader,
  ApiPreferHeader,
  idempotencyOf,
  PLACED_ORDER_HEADERS,
  resumeAfter,
} from './order-headers.js';

const ApiOrderId = () => ApiIdentifierParam('id', 100, '01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17');

@ApiTags('orders')
@Controller('orders')
export class OrdersController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
    private readonly progress: OrderProgress,
    private readonly eventStream: OrderEventStream,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiDoc(
    'Place an order; the workflow runs after the answer',
    'Accepts the order (status PENDING) and answers at once; validation, stock reservation, ' +
      'payment and notification follow as events. A customer places its own orders (its token ' +
      'names it); an admin names the customer in `customerId`. Unknown products or missing ' +
      'stock show later as a FAILED order with a failureReason. With `Prefer: wait=N` the ' +
      'answer waits up to N seconds for the order to finish: 201 with the finished order if it ' +
      'did, else the usual 202.',
  )
  @ApiPreferHeader()
  @ApiIdempotencyKeyHeader()
  @ApiAcceptedResponse({
    type: OrderDto,
    description:
      'Accepted; follow Location for its status (with Prefer: wait, it did not finish in time)',
    headers: PLACED_ORDER_HEADERS,
  })
  @ApiCreatedResponse({
    type: OrderDto,
    description: 'Prefer: wait=N and the order reached a terminal status within N seconds',
    headers: PLACED_ORDER_HEADERS,
  })
  @ApiBodyProblems()
  @ApiProblems(
    [403, 'A customer named another customer in customerId'],
    [409, 'A request with this Idempotency-Key is in flight (code IDEMPOTENCY_KEY_IN_FLIGHT)'],
    [422, 'Idempotency-Key reused with another body (code IDEMPOTENCY_KEY_REUSED)'],
    [
      503,
      'The service is at its backlog limit (code SERVICE_OVERLOADED) or the database is ' +
        'unreachable: nothing was done; retry after Retry-After seconds',
    ],
  )
  async place(
    @Body() body: PlaceOrderDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Res() response: Response,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    const customerId = customerOf(principal, body.customerId);
    const idempotency = idempotencyOf(idempotencyKey, body);
    const { order, replayed } = await this.commandBus.execute(
      new PlaceOrder(customerId, body.customerEmail ?? null, body.items, idempotency, principal.id),
    );
    response.location(`/orders/${order.id}`);
    if (replayed) response.setHeader('Idempotent-Replayed', 'true');
    const wait = preferredWait(prefer);
    if (wait === undefined) {
      response.status(202).json(order);
      return;
    }
    // The order is stored and its unit of work committed: the wait holds no transaction. A client
    // that goes away ends it.
    response.setHeader('Preference-Applied', `wait=${wait}`);
    const gone = new AbortController();
    response.once('close', () => gone.abort());
    if (await this.progress.reachesTerminal(order.id, wait * 1000, gone.signal)) {
      response.status(201).json(await visibleOrder(this.queryBus, order.id, principal));
    } else {
      response.status(202).json(order);
    }
  }

  @Get()
  @ApiDoc(
    'Orders, newest first, with cursor pagination',
    "An admin sees every order (or one customer's with `customerId`); a customer sees its own. " +
      'Pass `nextCursor` as `cursor` for the next page.',
  )
  @ApiOkResponse({ type: OrderPageDto })
  @ApiProblems(
    [400, 'A query parameter is not valid, or the cursor is not one this service gave'],
    [403, "A customer asked for another customer's orders"],
  )
  list(
    @Query() query: ListOrdersDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OrderPage> {
    // A customer sees its own orders only; asking for another customer's is refused.
    const customerId =
      principal.role === 'admin' ? query.customerId : customerOf(principal, query.customerId);
    return this.queryBus.execute(
      new ListOrders(query.limit ?? 20, query.status, customerId, query.cursor),
    );
  }

  @Get(':id')
  @ApiDoc(
    'One order and its status',
    "A customer's token sees its own orders only: another's answers 404, as an unknown one.",
  )
  @ApiOrderId()
  @ApiOkResponse({ type: OrderDto })
  @ApiProblems([400, 'The id is not a valid identifier'], [404, 'Unknown order'])
  get(@Param() { id }: OrderIdParam, @CurrentPrincipal() principal: Principal): Promise<OrderView> {
    return visibleOrder(this.queryBus, id, principal);
  }

  @Get(':id/events')
  @ApiDoc(
    "The order's events, in the order they happened",
    'Its history from the event log: every event of its stream with correlation and causation. ' +
      'Payload schemas are in the event catalog (/docs/asyncapi.json).',
  )
  @ApiOrderId()
  @ApiOkResponse({ type: OrderEventDto, isArray: true })
  @ApiProblems([400, 'The id is not a valid identifier'], [404, 'Unknown order'])
  async events(
    @Param() { id }: OrderIdParam,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OrderEventView[]> {
    await visibleOrder(this.queryBus, id, principal);
    return this.queryBus.execute(new GetOrderEvents(id));
  }

  @Get(':id/stream')
  @ApiDoc(
    "The order's events as they happen (Server-Sent Events)",
    "A text/event-stream from the beginning of the order's history, or, with Last-Event-ID, " +
      'from after that event. Each event is a message with `event:` its type, `id:` its global ' +
      'seq and `data:` JSON of the event as GET /orders/{id}/events shows it plus `status`, the ' +
      "order's status after it. An event that changed the status is followed by a message " +
      '`event: status` with `data: {"status": …}` (no id). The server ends the response after ' +
      'the terminal status and the final notification (OrderConfirmationSent or ' +
      'OrderFailureNotificationSent), or after STREAM_MAX_MS (reconnect with Last-Event-ID). ' +
      'A comment line keeps an idle stream open every STREAM_KEEP_ALIVE_MS.',
  )
  @ApiOrderId()
  @ApiProduces('text/event-stream')
  @ApiLastEventIdHeader()
  @ApiOkResponse({
    description: 'The event stream',
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example:
          'id: 41\nevent: OrderCreated\ndata: {"seq":41,"type":"OrderCreated",…,"status":"PENDING"}\n\n' +
          'event: status\ndata: {"status":"PENDING"}\n\n',
      },
    },
  })
  @ApiProblems(
    [400, 'The id is not a valid identifier'],
    [404, 'Unknown order, answered before any stream starts'],
    [
      429,
      'Too many requests, or this principal holds STREAM_LIMIT_PER_PRINCIPAL streams already ' +
        '(code TOO_MANY_STREAMS); retry after Retry-After',
    ],
    [
      503,
      'Too many streams open on this instance (code SERVICE_OVERLOADED), or the database is ' +
        'unreachable; retry after Retry-After',
    ],
  )
  async stream(
    @Param() { id }: OrderIdParam,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    await visibleOrder(this.queryBus, id, principal);
    this.eventStream.reserve(principal.id);
    await this.eventStream.serve(id, principal.id, resumeAfter(lastEventId), request, response);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiDoc(
    'Cancel an order whose payment has not completed',
    'Its reservation is released and a payment made meanwhile is refunded.',
  )
  @ApiOrderId()
  @ApiOkResponse({ type: OrderDto, description: 'The cancelled order' })
  @ApiBodyProblems()
  @ApiProblems(
    [404, 'Unknown order'],
    [409, 'The order is completed, failed or already cancelled (code ORDER_NOT_CANCELLABLE)'],
  )
  async cancel(
    @Param() { id }: OrderIdParam,
    @Body() body: CancelOrderDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OrderView> {
    // An order's customer never changes, so checking it before the command is enough.
    await visibleOrder(this.queryBus, id, principal);
    const state = await this.commandBus.execute(
      new CancelOrder(id, body.reason ?? 'cancelled by the customer'),
    );
    return toOrderView(state);
  }
}
