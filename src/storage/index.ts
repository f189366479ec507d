import type { Config } from '../config.js';
import { LocalStorageDriver } from './local.driver.js';
import type { StorageDriver } from './storage.driver.js';

export * from './storage.driver.js';
export * from './signed-url.js';
export { LocalStorageDriver } from './local.driver.js';

/** The storage the configuration asks for. Only local disk for now; S3 would be chosen here. */
export function createStorage(config: Pick<Config, 'storageDir'>): StorageDriver {
  return new LocalStorageDriver(config.storageDir);
}
