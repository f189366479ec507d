import type { Config } from '../config.js';
import { LocalStorageDriver } from './local.driver.js';
import { S3StorageDriver } from './s3.driver.js';
import type { StorageDriver } from './storage.driver.js';

export * from './storage.driver.js';
export * from './signed-url.js';
export { LocalStorageDriver } from './local.driver.js';
export { S3StorageDriver } from './s3.driver.js';

/** The storage the configuration asks for: the STORAGE_URL bucket when set, else STORAGE_DIR. */
export function createStorage(config: Pick<Config, 'storageDir' | 'storageS3'>): StorageDriver {
  return config.storageS3 ? new S3StorageDriver(config.storageS3) : new LocalStorageDriver(config.storageDir);
}
