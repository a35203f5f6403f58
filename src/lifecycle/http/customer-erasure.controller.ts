import { Roles } from '../../auth/auth.guards.js';
import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsIdentifier } from '../../common/identifier.js';
import { ApiDoc, ApiProblems } from '../../common/openapi.js';
import { ApiIdentifierParam } from '../../common/openapi-identifiers.js';
import {
  EraseCustomerData,
  type ErasureReport,
} from '../commands/erase-customer-data/erase-customer-data.command.js';

export class CustomerIdParam {
  // The same check as a customerId anywhere else: printable characters only.
  @IsIdentifier(100)
  customerId: string;
}

export class ErasureReportDto implements ErasureReport {
  @ApiProperty({ example: 'customer-42' }) customerId: string;
  @ApiProperty({ type: 'integer', description: 'Orders whose e-mail address was erased' })
  orders: number;
  @ApiProperty({ type: 'integer', description: 'Notifications whose recipient address was erased' })
  notifications: number;
  @ApiProperty({
    type: 'integer',
    description: 'Of those, notifications not sent yet: they are never sent',
  })
  notificationsSkipped: number;
  @ApiProperty({ type: 'integer', description: 'Events whose payload held the address' })
  events: number;
  @ApiProperty({ format: 'date-time' }) erasedAt: string;
}

// Admins only: it changes every order of a customer.
@ApiTags('admin')
@Roles('admin')
@Controller('admin/customers')
export class CustomerErasureController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':customerId/erasure')
  @HttpCode(200)
  @ApiDoc(
    "Erase a customer's personal data",
    "Erases the customer's e-mail address in orders, notifications and events; statuses, " +
      'amounts and events stay. Unsent notifications are never sent. Erasing again is harmless.',
  )
  @ApiIdentifierParam('customerId', 100, 'customer-42')
  @ApiOkResponse({ type: ErasureReportDto, description: 'What was erased' })
  @ApiProblems([400, 'The customer id is not valid'])
  erase(@Param() { customerId }: CustomerIdParam): Promise<ErasureReport> {
    return this.commandBus.execute(new EraseCustomerData(customerId));
  }
}
