export * from './service-storage.js';
export * from './storage-keys.js';
