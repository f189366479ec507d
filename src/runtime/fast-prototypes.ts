/**
 * Keeps the built-in prototypes in V8's fast mode, where optimised code can inline their methods.
 *
 * Declaring `class X extends String` puts `String.prototype` into dictionary mode ("setup mode" for
 * a new prototype chain) until some object whose chain holds it takes a property store. ioredis
 * declares such a class (`VerbatimString`, for RESP3 replies) and seldom makes one, so once it is
 * loaded every `s.charCodeAt(i)`, `s.slice()` and `s.indexOf()` in optimised code becomes a
 * dictionary lookup and a call that is no longer inlined. Measured here (Node 20): a charCodeAt loop
 * over a CSV ran 3–5× slower, and the worker spent ~2× the CPU of the same import encoder in a bare
 * process. Stream subclasses do the same to `Writable.prototype` and `Transform.prototype`.
 *
 * One property store on an object made from each prototype makes V8 turn its chain fast again
 * (`JSObject::MakePrototypesFast`), and it stays fast. It costs a few microseconds, so it runs at
 * start-up and again before each job, in case a module loaded since then declared a new subclass.
 */
import { EventEmitter } from 'node:events';
import { Duplex, Readable, Stream, Transform, Writable } from 'node:stream';

const CONSTRUCTORS: ReadonlyArray<{ prototype: object }> = [
  Object,
  Function,
  String,
  Number,
  Boolean,
  Array,
  Map,
  Set,
  RegExp,
  Date,
  Promise,
  Error,
  ArrayBuffer,
  Uint8Array,
  Buffer,
  EventEmitter,
  Stream,
  Readable,
  Writable,
  Duplex,
  Transform,
];

/** Makes every built-in prototype above fast again; see the module comment. */
export function keepPrototypesFast(): void {
  for (const c of CONSTRUCTORS) {
    const probe = Object.create(c.prototype) as { probe?: number };
    probe.probe = 0;
  }
}
