import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { LocalStorageDriver } from './local.driver.js';
import { S3StorageDriver } from './s3.driver.js';
import type { StorageDriver } from './storage.driver.js';

export * from './storage.driver.js';
export * from './signed-url.js';
export { LocalStorageDriver } from './local.driver.js';
export { S3StorageDriver } from './s3.driver.js';

/** The storage the configuration asks for: the STORAGE_URL bucket when set, else STORAGE_DIR. */
export function createStorage(config: Pick<Config, 'storageDir' | 'storageS3' | 'locations'>, logger?: Logger): StorageDriver {
  if (!config.storageS3) return new LocalStorageDriver(config.storageDir);
  return new S3StorageDriver(config.storageS3, {
    idleTimeoutMs: config.locations.outboundTimeoutMs,
    maxDurationMs: config.locations.outboundMaxDurationMs,
    ...(logger ? { logger } : {}),
  });
}
