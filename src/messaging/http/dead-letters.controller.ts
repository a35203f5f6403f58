import { Roles } from '../../auth/auth.guards.js';
import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Length } from 'class-validator';
import { DeadLetterStore, type DeadLetterView } from '../dead-letters.js';

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

@ApiTags('admin')
@Roles('admin')
@Controller('admin/dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetterStore) {}

  @Get()
  @ApiOperation({ summary: 'Deliveries that failed every attempt, newest first' })
  list(@Query() filter: DeadLetterFilterDto): Promise<DeadLetterView[]> {
    return this.deadLetters.list(filter.includeReplayed ?? false);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Deliver the event to the subscriber again, with fresh attempts' })
  replay(@Param() { id }: DeadLetterIdParam): Promise<DeadLetterView> {
    return this.deadLetters.replay(id);
  }
}
