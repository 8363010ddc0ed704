import { Injectable } from '@nestjs/common';
import * as bcrypt from 'bcrypt';
import { AppConfig } from '../config/app-config';

import { randomBytes } from 'node:crypto';

/** bcrypt behind an injectable; cost from BCRYPT_COST. */
@Injectable()
export class PasswordHasher {
  // A hash of a random string at the configured cost: comparing against it takes as long as
  // a real check, so an unknown email or a user without a password cannot be told by timing.
  private dummyHash?: Promise<string>;

  constructor(private readonly config: AppConfig) {}

  hash(plain: string): Promise<string> {
    return bcrypt.hash(plain, this.config.bcryptCost);
  }

  /** False for a null hash (a user without a password), after spending the same time. */
  async verify(plain: string, hash: string | null | undefined): Promise<boolean> {
    if (!hash) {
      this.dummyHash ??= bcrypt.hash(randomBytes(16).toString('hex'), this.config.bcryptCost);
      await bcrypt.compare(plain, await this.dummyHash);
      return false;
    }
    return bcrypt.compare(plain, hash);
  }
}
