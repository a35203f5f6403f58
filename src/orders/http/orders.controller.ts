import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiBodyProblems, ApiDoc, ApiIdentifierParam, ApiProblems } from '../../common/openapi.js';
import type { Response } from 'express';
import { canonicalJson, sha256 } from '../../common/canonical-json.js';
import { RequestValidationError } from '../../common/problem.js';
import { AuthError } from '../../auth/auth.errors.js';
import { CurrentPrincipal, type Principal } from '../../auth/principal.js';
import { CancelOrder } from '../commands/cancel-order/cancel-order.command.js';
import { PlaceOrder } from '../commands/place-order/place-order.command.js';
import { GetOrderEvents } from '../queries/get-order-events/get-order-events.query.js';
import { visibleOrder } from '../queries/get-order/visible-order.js';
import type { OrderPage } from '../queries/list-orders/list-orders.query.js';
import { ListOrders } from '../queries/list-orders/list-orders.query.js';
import { toOrderView, type OrderEventView, type OrderView } from '../queries/order.view.js';
import { CancelOrderDto, ListOrdersDto, OrderIdParam } from './dto/list-orders.dto.js';
import { OrderDto, OrderEventDto, OrderPageDto } from './dto/order.dto.js';
import { PlaceOrderDto } from './dto/place-order.dto.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const ApiOrderId = () => ApiIdentifierParam('id', 100, '01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17');

const LOCATION = {
  Location: {
    required: true,
    description: 'Where to follow the order: /orders/{id}',
    schema: { type: 'string', example: '/orders/01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17' },
  },
};

@ApiTags('orders')
@Controller('orders')
export class OrdersController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiDoc(
    'Place an order; the workflow runs after the answer',
    'Accepts the order (status PENDING) and answers at once; validation, stock reservation, ' +
      'payment and notification follow as events. A customer places its own orders (its token ' +
      'names it); an admin names the customer in `customerId`. Unknown products or missing ' +
      'stock show later as a FAILED order with a failureReason.',
  )
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source, maxLength: 255 },
    description:
      'Repeat a request safely: the same key and body return the first response again; ' +
      'another body gets 422; while the first is in flight, 409. A key belongs to the caller ' +
      'and replays for IDEMPOTENCY_KEY_TTL_MS (24 h by default); after that it places a new order.',
  })
  @ApiAcceptedResponse({
    type: OrderDto,
    description: 'Accepted; follow Location for its status',
    headers: {
      ...LOCATION,
      'Idempotent-Replayed': {
        description: 'Present (`true`) when this is the stored answer to an earlier request',
        schema: { type: 'string', enum: ['true'] },
      },
    },
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
    @Res({ passthrough: true }) response: Response,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OrderView> {
    const customerId = customerOf(principal, body.customerId);
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new RequestValidationError([
        {
          field: 'Idempotency-Key',
          message: 'Idempotency-Key must be 1 to 255 visible ASCII characters',
        },
      ]);
    }
    const { order, replayed } = await this.commandBus.execute(
      new PlaceOrder(
        customerId,
        body.customerEmail ?? null,
        body.items,
        idempotencyKey === undefined
          ? undefined
          : { key: idempotencyKey, requestHash: sha256(canonicalJson(body)) },
        principal.sub,
      ),
    );
    response.location(`/orders/${order.id}`);
    if (replayed) response.setHeader('Idempotent-Replayed', 'true');
    return order;
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

/**
 * The customer a request acts for: a customer's own id (its token's sub; naming another is
 * refused), or, for an admin, the customer it names.
 */
function customerOf(principal: Principal, named: string | undefined): string {
  if (principal.role === 'admin') {
    if (named === undefined) {
      throw new RequestValidationError([
        { field: 'customerId', message: 'customerId is required when an admin places an order' },
      ]);
    }
    return named;
  }
  if (named !== undefined && named !== principal.sub) {
    throw AuthError.forbidden(`act for customer ${named}`);
  }
  return principal.sub;
}
