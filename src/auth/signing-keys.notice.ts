import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

/** Says at start which key signs, and warns when the keys are this process's own. */
@Injectable()
export class SigningKeysNotice implements OnApplicationBootstrap {
  private readonly logger = new Logger('SigningKeys');

  constructor(private readonly config: AppConfig) {}

  onApplicationBootstrap(): void {
    const keys = this.config.jwtSigningKeys;
    if (this.config.jwtSigningKeysGenerated) {
      this.logger.warn(
        'JWT_SIGNING_KEYS is not set: this process signs with a key pair of its own; its tokens die with it',
      );
    }
    this.logger.log({ msg: 'access tokens', signing_kid: keys.currentKid, kids: keys.kids });
  }
}
