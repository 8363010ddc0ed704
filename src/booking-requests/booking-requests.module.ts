import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BookingRequestsController } from './booking-requests.controller';
import { BookingRequestsService } from './booking-requests.service';
import { BookingRequest } from './entities/booking-request.entity';

@Module({
  imports: [TypeOrmModule.forFeature([BookingRequest])],
  controllers: [BookingRequestsController],
  providers: [BookingRequestsService],
})
export class BookingRequestsModule {}
