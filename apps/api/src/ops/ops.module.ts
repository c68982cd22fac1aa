import { Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module';
import { OpsController } from './ops.controller';

@Module({ imports: [RedisModule], controllers: [OpsController] })
export class OpsModule {}
