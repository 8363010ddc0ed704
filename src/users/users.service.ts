import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { User } from './entities/user.entity';

@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  /** The id must already be a validated UUID (see UuidParam). */
  async getById(id: string): Promise<User> {
    const user = await this.users.findOne({ where: { id } });
    if (!user) throw AppError.notFound('No user with that id.', 'user_not_found');
    return user;
  }
}
