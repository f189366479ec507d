/**
 * Azure Blob Storage through @azure/storage-blob. Writes are block blobs uploaded by uploadStream
 * with bounded buffers (4 MiB × 2 in flight); reads stream the download body; listings page
 * through listBlobsFlat, which returns names in lexicographic order.
 *
 * The account URL is `https://<account>.blob.core.windows.net`, or `endpoint_url` as Azure
 * connection strings write it for emulators (`http://127.0.0.1:10000/<account>`); `use_emulator`
 * is CnosDB's shorthand for azurite's default. A request policy gives every request the guard's
 * agent, whose sockets are watched for silence (src/net/outbound-deadline.ts); every operation also
 * takes its deadline's signal, which the SDK honours by tearing the request down.
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
import { InvalidLocationError, LocationAccessDeniedError, LocationNotFoundError, OutboundAddressRefusedError } from '../errors.js';
import { Deadline, hostPort } from '../net/outbound-deadline.js';
import { portOf } from '../net/outbound-guard.js';
import type {
  ListedObject,
  LocationDriver,
  OpenedRead,
  OpenedWrite,
  ParsedLocation,
  TransferOptions,
  WriteOptions,
} from './location.driver.js';
import { baseName, childLocation } from './location.driver.js';
import { definePlace, type ConnectionOf, type Place } from './place.js';
import { checkEndpoint } from './s3.driver.js';
import { mapStoreError, type DriverContext } from './store-errors.js';

const AZBLOB_OPTIONS = {
  account: 'text',
  access_key: 'text',
  bearer_token: 'text',
  endpoint_url: 'text',
  // CnosDB's shorthand for azurite's default endpoint, http://127.0.0.1:10000/<account>.
  use_emulator: 'flag',
} as const;
export type AzblobConnection = ConnectionOf<typeof AZBLOB_OPTIONS>;

export const azblobPlace: Place<'azblob'> = definePlace({
  schemes: ['azblob'],
  url: 'bucket',
  containerName: 'container',
  options: AZBLOB_OPTIONS,
  open: ({ connection, ctx }) => new AzblobLocationDriver(connection, ctx),
});

export const AZURE_BUFFER_SIZE = 4 * 1024 * 1024;
export const AZURE_CONCURRENCY = 2;
/** Fresh requests a broken download makes to resume where it stopped (the SDK's default is 5). */
const DOWNLOAD_RESUMES = 2;
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
  /** The store as timeouts name it: the account URL's host:port. */
  private readonly host: string;
  private readonly maxDurationMs: number;

  constructor(connection: AzblobConnection, ctx: DriverContext) {
    this.maxDurationMs = ctx.config.outboundMaxDurationMs;
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

    const url = new URL(accountUrl);
    this.host = hostPort(url.hostname, portOf(url));
    const protocol = url.protocol === 'http:' ? 'http:' : 'https:';
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

  async openRead(location: ParsedLocation, opts: TransferOptions = {}): Promise<OpenedRead> {
    const deadline = this.deadline(opts);
    try {
      const res = await deadline.race(
        this.container(location)
          .getBlobClient(location.key)
          .download(0, undefined, { abortSignal: deadline.signal, maxRetryRequests: DOWNLOAD_RESUMES }),
      );
      const body = res.readableStreamBody;
      if (!body) throw new LocationNotFoundError(location.href);
      const stream = deadline.stream(body as Readable, { mapError: (err) => this.mapError(err, location) });
      return { stream, size: res.contentLength, name: baseName(location.key) };
    } catch (err) {
      deadline.end();
      throw this.mapError(err, location);
    }
  }

  async *list(folder: ParsedLocation, opts: TransferOptions = {}): AsyncIterable<ListedObject> {
    const deadline = this.deadline(opts);
    const pages = this.container(folder)
      .listBlobsFlat({ prefix: folder.key || undefined, abortSignal: deadline.signal })
      .byPage({ maxPageSize: 1000 });
    try {
      for (;;) {
        let page: Awaited<ReturnType<typeof pages.next>>;
        try {
          page = await deadline.race(pages.next());
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
    } finally {
      deadline.end();
    }
  }

  openWrite(location: ParsedLocation, opts: WriteOptions = {}): OpenedWrite {
    const deadline = this.deadline(opts);
    let size = 0;
    const body = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const stop = () => body.destroy(deadline.reason);
    deadline.signal.addEventListener('abort', stop, { once: true });
    const blob = this.container(location).getBlockBlobClient(location.key);
    // Uncommitted blocks are discarded by Azure, so a failed upload leaves no blob behind.
    const done = deadline
      .race(
        blob.uploadStream(body, AZURE_BUFFER_SIZE, AZURE_CONCURRENCY, {
          abortSignal: deadline.signal,
          ...(opts.contentType ? { blobHTTPHeaders: { blobContentType: opts.contentType } } : {}),
        }),
      )
      .then(
        () => ({ url: location.href, size }),
        (err: unknown) => {
          body.destroy();
          throw this.mapError(err, location);
        },
      )
      .finally(() => {
        deadline.signal.removeEventListener('abort', stop);
        deadline.end();
      });
    done.catch(() => undefined);
    return { stream: body, done };
  }

  close(): void {
    for (const a of this.agents) a.destroy();
  }

  private deadline(opts: TransferOptions): Deadline {
    return new Deadline(this.host, this.maxDurationMs, opts.signal);
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
