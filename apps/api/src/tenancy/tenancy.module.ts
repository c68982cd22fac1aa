import { Module } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { RedisModule } from '../redis/redis.module';
import { UsageController } from './usage.controller';

/** Tenant-facing routes of fair sharing: usage. */
@Module({
  imports: [RedisModule],
  controllers: [UsageController],
  providers: [ApiKeyGuard],
})
export class TenancyModule {}
