import { Roles } from '../../auth/auth.guards.js';
import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import {
  EraseCustomerData,
  type ErasureReport,
} from '../commands/erase-customer-data/erase-customer-data.command.js';

export class CustomerIdParam {
  @Length(1, 100)
  @IsString()
  customerId: string;
}

export class ErasureReportDto implements ErasureReport {
  @ApiProperty() customerId: string;
  @ApiProperty({ description: 'Orders whose e-mail address was erased' }) orders: number;
  @ApiProperty({ description: 'Notifications whose recipient address was erased' })
  notifications: number;
  @ApiProperty({ description: 'Of those, notifications not sent yet: they are never sent' })
  notificationsSkipped: number;
  @ApiProperty({ description: 'Events whose payload held the address' }) events: number;
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
  @ApiOperation({
    summary:
      "Erase a customer's personal data (its e-mail address in orders, notifications and " +
      'events); statuses, amounts and events stay. Unsent notifications are never sent.',
  })
  @ApiOkResponse({ type: ErasureReportDto, description: 'What was erased' })
  @ApiBadRequestResponse({ description: 'The customer id is not valid (problem+json)' })
  erase(@Param() { customerId }: CustomerIdParam): Promise<ErasureReport> {
    return this.commandBus.execute(new EraseCustomerData(customerId));
  }
}
