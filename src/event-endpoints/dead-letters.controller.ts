import { Roles } from '../auth/auth.guards.js';
import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { ApiDoc, ApiProblems } from '../common/openapi.js';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';
import { DeadLetterStore, type DeadLetterView } from '../durable-cqrs/index.js';

export class DeadLetterFilterDto {
  @ApiPropertyOptional({ description: 'Also list dead letters that were replayed', default: false })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  includeReplayed?: boolean;
}

export class DeadLetterIdParam {
  @Length(1, 100)
  @IsString()
  id: string;
}

export class DeadLetterDto implements DeadLetterView {
  @ApiProperty({ example: '01938a5e-7c1b-7d3e-9a41-5f2c8e0b6d17' }) id: string;
  @ApiProperty({ example: 'NotifyCustomerHandler' }) subscriber: string;
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ example: 'OrderCompleted' }) eventType: string;
  @ApiProperty({ description: 'The stream (usually the order id) of the event' }) streamId: string;
  @ApiProperty({ type: 'integer', example: 8 }) attempts: number;
  @ApiProperty({ example: 'Error: SMTP timeout' }) lastError: string;
  @ApiProperty({ format: 'date-time' }) failedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) replayedAt: string | null;
}

@ApiTags('admin')
@Roles('admin')
@Controller('admin/dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetterStore) {}

  @Get()
  @ApiDoc(
    'Deliveries that failed every attempt, newest first',
    'Each is an event one subscriber could not handle after RETRY_MAX_ATTEMPTS attempts.',
  )
  @ApiOkResponse({ type: DeadLetterDto, isArray: true })
  @ApiProblems([400, 'includeReplayed is not true or false'])
  list(@Query() filter: DeadLetterFilterDto): Promise<DeadLetterView[]> {
    return this.deadLetters.list(filter.includeReplayed ?? false);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiDoc(
    'Deliver the event to the subscriber again, with fresh attempts',
    'The delivery runs after the answer; the dead letter is marked replayed.',
  )
  @ApiParam({
    name: 'id',
    schema: { type: 'string', minLength: 1, maxLength: 100, example: '01938a5e-7c1b-7d3e' },
  })
  @ApiAcceptedResponse({ type: DeadLetterDto, description: 'Replay scheduled' })
  @ApiProblems(
    [400, 'The id is not valid'],
    [404, 'Unknown dead letter (code DEAD_LETTER_NOT_FOUND)'],
    [409, 'Already replayed (code DEAD_LETTER_ALREADY_REPLAYED)'],
  )
  replay(@Param() { id }: DeadLetterIdParam): Promise<DeadLetterView> {
    return this.deadLetters.replay(id);
  }
}
