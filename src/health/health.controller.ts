import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/decorators/public.decorator';
import { HealthService } from './health.service';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Public()
  @Get('ping')
  @ApiOperation({ summary: 'Load balancer health check' })
  @ApiResponse({ status: 200, description: '{"status":"ok"}' })
  @ApiResponse({ status: 503, description: 'Database down or migrations pending' })
  async ping(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.health.check();
    await reply
      .status(report.ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(report.body);
  }
}
