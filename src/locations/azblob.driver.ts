/**
 * Azure Blob Storage through @azure/storage-blob. Writes are block blobs uploaded by uploadStream
 * with bounded buffers (4 MiB × 2 in flight); reads stream the download body; listings page
 * through listBlobsFlat, which returns names in lexicographic order.
 *
 * The account URL is `https://<account>.blob.core.windows.net`, or `endpoint_url` as Azure
 * connection strings write it for emulators (`http://127.0.0.1:10000/<account>`); `use_emulator`
 * is CnosDB's shorthand for azurite's default. A request policy gives every request the guard's agent.
 */
import {
  AnonymousCredential,
  BlobServiceClient,
  newPipeline,
  RestError,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import type http from 'node:http';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidLocationError, LocationAccessDeniedError, LocationNotFoundError, OutboundAddressRefusedError } from '../errors.js';
import type { AzblobConnection } from './connection-options.js';
import type { ListedObject, LocationDriver, OpenedRead, OpenedWrite, ParsedLocation, WriteOptions } from './location.driver.js';
import { baseName, childLocation } from './location-url.js';
import { checkEndpoint } from './s3.driver.js';
import { mapStoreError, type DriverContext } from './store-errors.js';

export const AZURE_BUFFER_SIZE = 4 * 1024 * 1024;
export const AZURE_CONCURRENCY = 2;
const EMULATOR = 'http://127.0.0.1:10000';
const ACCOUNT = /^[a-z0-9]{3,24}$/;

/** The shape of a policy of @azure/core-rest-pipeline, which the SDK uses underneath. */
interface GuardPolicy {
  name: string;
  sendRequest(request: { agent?: http.Agent }, next: (request: { agent?: http.Agent }) => Promise<unknown>): Promise<unknown>;
}

export class AzblobLocationDriver implements LocationDriver {
  readonly scheme = 'azblob' as const;
  private readonly service: BlobServiceClient;
  private readonly agents: http.Agent[] = [];

  constructor(connection: AzblobConnection, ctx: DriverContext) {
    const custom = connection.endpoint_url !== undefined || connection.use_emulator === true;
    const account = connection.account ?? (custom ? undefined : ctx.config.azure.account);
    if (account !== undefined && !ACCOUNT.test(account))
      throw new InvalidLocationError('connection.account', 'connection.account must be 3 to 24 lower-case letters and digits.');
    let accountUrl: string;
    if (connection.endpoint_url !== undefined)
      accountUrl = checkEndpoint(connection.endpoint_url, 'connection.endpoint_url').toString().replace(/\/+$/, '');
    else if (account === undefined)
      throw new InvalidLocationError('connection.account', 'azblob:// needs connection.account (or AZURE_STORAGE_ACCOUNT on the server).');
    else accountUrl = connection.use_emulator ? `${EMULATOR}/${account}` : `https://${account}.blob.core.windows.net`;

    const protocol = accountUrl.startsWith('http:') ? 'http:' : 'https:';
    const agent = ctx.guard.agent(protocol, { keepAlive: true, maxSockets: 8 });
    this.agents.push(agent);
    const pipeline = newPipeline(credentialFor(connection, ctx, account, custom), { retryOptions: { maxTries: 3 } });
    this.service = new BlobServiceClient(accountUrl, pipeline);
    // Every request must go through the guard's agent. The SDK's public hook for extra policies
    // (a RequestPolicyFactory) breaks shared-key signing, so the policy goes into the core pipeline
    // the SDK builds once per Pipeline object and caches on it for every client made from it. If a
    // future SDK stops caching it there, fail closed rather than connect unguarded.
    const core = (pipeline as unknown as { _corePipeline?: { addPolicy(policy: GuardPolicy): void } })._corePipeline;
    if (!core) throw new Error('@azure/storage-blob no longer exposes its core pipeline; the outbound guard cannot be attached');
    core.addPolicy({
      name: 'tableportOutboundGuard',
      sendRequest: (request, next) => {
        request.agent = agent;
        return next(request);
      },
    });
  }

  async openRead(location: ParsedLocation): Promise<OpenedRead> {
    try {
      const res = await this.container(location).getBlobClient(location.key).download();
      const body = res.readableStreamBody;
      if (!body) throw new LocationNotFoundError(location.href);
      const out = new Transform({ transform: (c: Buffer, _e, cb) => cb(null, c) });
      pipeline(body as Readable, out).catch((err: unknown) => out.destroy(this.mapError(err, location)));
      return { stream: out, size: res.contentLength, name: baseName(location.key) };
    } catch (err) {
      throw this.mapError(err, location);
    }
  }

  async *list(folder: ParsedLocation): AsyncIterable<ListedObject> {
    const pages = this.container(folder)
      .listBlobsFlat({ prefix: folder.key || undefined })
      .byPage({ maxPageSize: 1000 });
    for (;;) {
      let page: Awaited<ReturnType<typeof pages.next>>;
      try {
        page = await pages.next();
      } catch (err) {
        throw this.mapError(err, folder);
      }
      if (page.done) return;
      for (const blob of page.value.segment.blobItems) {
        if (blob.name.endsWith('/')) continue;
        const name = blob.name.slice(folder.key.length);
        yield { location: childLocation(folder, name), name, size: blob.properties.contentLength ?? 0 };
      }
    }
  }

  openWrite(location: ParsedLocation, opts: WriteOptions = {}): OpenedWrite {
    let size = 0;
    const body = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const blob = this.container(location).getBlockBlobClient(location.key);
    // Uncommitted blocks are discarded by Azure, so a failed upload leaves no blob behind.
    const done = blob
      .uploadStream(
        body,
        AZURE_BUFFER_SIZE,
        AZURE_CONCURRENCY,
        opts.contentType ? { blobHTTPHeaders: { blobContentType: opts.contentType } } : {},
      )
      .then(
        () => ({ url: location.href, size }),
        (err: unknown) => {
          body.destroy();
          throw this.mapError(err, location);
        },
      );
    done.catch(() => undefined);
    return { stream: body, done };
  }

  close(): void {
    for (const a of this.agents) a.destroy();
  }

  private container(location: ParsedLocation): ContainerClient {
    return this.service.getContainerClient(location.container);
  }

  private mapError(err: unknown, location: ParsedLocation): Error {
    return mapStoreError(err, location.href, (e) => {
      if (!(e instanceof RestError)) return undefined;
      // The SDK rethrows a socket error as a RestError that keeps only its code and message.
      if (e.code === 'invalid_parameter' && OutboundAddressRefusedError.isRefusalMessage(e.message))
        return OutboundAddressRefusedError.fromMessage(e.message);
      if (e.statusCode === 404) return new LocationNotFoundError(location.href);
      if (e.statusCode === 401 || e.statusCode === 403)
        return new LocationAccessDeniedError(location.href, e.code ?? `HTTP ${e.statusCode}`);
      return undefined;
    });
  }
}

function credentialFor(
  c: AzblobConnection,
  ctx: DriverContext,
  account: string | undefined,
  customEndpoint: boolean,
): Parameters<typeof newPipeline>[0] {
  if (c.access_key !== undefined && c.bearer_token !== undefined) {
    throw new InvalidLocationError('connection', 'Give access_key or bearer_token, not both.');
  }
  if (c.access_key !== undefined) {
    if (!account) throw new InvalidLocationError('connection.account', 'access_key needs connection.account.');
    return sharedKey(account, c.access_key);
  }
  if (c.bearer_token !== undefined) {
    const token = c.bearer_token;
    return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
  }
  // The server's own key signs only requests to Azure itself, for its own account.
  const az = ctx.config.azure;
  if (!customEndpoint && az.accessKey && az.account && account === az.account) return sharedKey(account, az.accessKey);
  return new AnonymousCredential();
}

function sharedKey(account: string, key: string): StorageSharedKeyCredential {
  try {
    return new StorageSharedKeyCredential(account, key);
  } catch {
    throw new InvalidLocationError('connection.access_key', 'connection.access_key is not a valid account key.');
  }
}
