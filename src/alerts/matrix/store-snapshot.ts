/**
 * The bot's crypto store across restarts. matrix-js-sdk's Rust crypto keeps its store in
 * IndexedDB, which Node lacks; the relay gives it an in-memory IndexedDB (fake-indexeddb) and
 * copies those databases to one file in DATA_DIR, sealed with AES-256-GCM under a key derived
 * from the operator's secret. Without this a restart would be a new device with new keys, and
 * supervisors' clients would warn about it.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { deserialize, serialize } from "node:v8";

/*
 * The few IndexedDB shapes this file touches, typed here rather than through the DOM library:
 * the server's tsconfig has no DOM, so server code cannot use a browser global by mistake.
 * Keys stay opaque (`unknown`): they are read from a cursor and written back unchanged.
 */
type Callback = (() => void) | null;
interface IdbRequest<T> {
  readonly result: T;
  readonly error: unknown;
  onsuccess: Callback;
  onerror: Callback;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: Callback;
}
interface IdbCursor {
  readonly primaryKey: unknown;
  readonly value: unknown;
  continue(): void;
}
interface IdbIndexOptions {
  unique: boolean;
  multiEntry: boolean;
}
interface IdbObjectStore {
  readonly keyPath: string | string[] | null;
  readonly autoIncrement: boolean;
  readonly indexNames: Iterable<string>;
  index(name: string): IdbIndexOptions & { readonly keyPath: string | string[] };
  openCursor(): IdbRequest<IdbCursor | null>;
  put(value: unknown, key?: unknown): unknown;
  createIndex(name: string, keyPath: string | string[], options: IdbIndexOptions): unknown;
}
interface IdbTransaction {
  readonly error: unknown;
  objectStore(name: string): IdbObjectStore;
  oncomplete: Callback;
  onerror: Callback;
}
interface IdbDatabase {
  readonly objectStoreNames: Iterable<string>;
  transaction(name: string, mode: "readonly" | "readwrite"): IdbTransaction;
  createObjectStore(
    name: string,
    options: { keyPath: string | string[] | null; autoIncrement: boolean },
  ): IdbObjectStore;
  close(): void;
}
interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
  deleteDatabase(name: string): IdbRequest<unknown>;
  databases(): Promise<{ name?: string; version?: number }[]>;
}

/** The global installed by fake-indexeddb/auto (session.ts imports it before any use). */
function indexedDB(): IdbFactory {
  const factory = (globalThis as { indexedDB?: IdbFactory }).indexedDB;
  if (!factory) throw new Error("no IndexedDB global: import fake-indexeddb/auto first");
  return factory;
}

interface StoreSnapshot {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: { name: string; keyPath: string | string[]; unique: boolean; multiEntry: boolean }[];
  records: [unknown, unknown][];
}

interface DatabaseSnapshot {
  name: string;
  version: number;
  stores: StoreSnapshot[];
}

const MAGIC = Buffer.from("GRT-CRYPTO-1");
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Two independent keys from the operator's secret: one for the file, one for the store. */
export function deriveKeys(secret: string): { fileKey: Buffer; storeKey: Uint8Array } {
  const derive = (info: string) =>
    Buffer.from(hkdfSync("sha256", secret, "grist-realtime", info, 32));
  return { fileKey: derive("crypto-store-file"), storeKey: new Uint8Array(derive("rust-store")) };
}

function request<T>(req: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function open(name: string, version?: number, upgrade?: (db: IdbDatabase) => void) {
  const req = indexedDB().open(name, version);
  if (upgrade) req.onupgradeneeded = () => upgrade(req.result);
  return request(req);
}

async function databaseNames(prefix: string): Promise<{ name: string; version: number }[]> {
  const all = await indexedDB().databases();
  return all.flatMap((db) =>
    db.name?.startsWith(prefix) ? [{ name: db.name, version: db.version ?? 1 }] : [],
  );
}

async function dumpStore(db: IdbDatabase, name: string): Promise<StoreSnapshot> {
  const store = db.transaction(name, "readonly").objectStore(name);
  const records: [unknown, unknown][] = [];
  await new Promise<void>((resolve, reject) => {
    const cursor = store.openCursor();
    cursor.onsuccess = () => {
      const current = cursor.result;
      if (!current) return resolve();
      records.push([current.primaryKey, current.value]);
      current.continue();
    };
    cursor.onerror = () => reject(cursor.error);
  });
  const indexes = [...store.indexNames].map((indexName) => {
    const index = store.index(indexName);
    return {
      name: indexName,
      keyPath: index.keyPath,
      unique: index.unique,
      multiEntry: index.multiEntry,
    };
  });
  return {
    name,
    keyPath: store.keyPath,
    autoIncrement: store.autoIncrement,
    indexes,
    records,
  };
}

/** Every database whose name starts with `prefix`, as one serialisable value. */
export async function dumpDatabases(prefix: string): Promise<DatabaseSnapshot[]> {
  const snapshots: DatabaseSnapshot[] = [];
  for (const { name, version } of await databaseNames(prefix)) {
    const db = await open(name);
    try {
      const stores = [];
      for (const store of db.objectStoreNames) stores.push(await dumpStore(db, store));
      snapshots.push({ name, version, stores });
    } finally {
      db.close();
    }
  }
  return snapshots;
}

/** Recreates the databases of a dump, at their version so no schema migration runs. */
export async function restoreDatabases(snapshots: DatabaseSnapshot[]): Promise<void> {
  for (const snapshot of snapshots) {
    await request(indexedDB().deleteDatabase(snapshot.name));
    const db = await open(snapshot.name, snapshot.version, (created) => {
      for (const store of snapshot.stores) {
        const objectStore = created.createObjectStore(store.name, {
          keyPath: store.keyPath,
          autoIncrement: store.autoIncrement,
        });
        for (const index of store.indexes) {
          objectStore.createIndex(index.name, index.keyPath, {
            unique: index.unique,
            multiEntry: index.multiEntry,
          });
        }
      }
    });
    try {
      for (const store of snapshot.stores) {
        if (store.records.length === 0) continue;
        const tx = db.transaction(store.name, "readwrite");
        const objectStore = tx.objectStore(store.name);
        for (const [key, value] of store.records) {
          if (store.keyPath === null) objectStore.put(value, key);
          else objectStore.put(value);
        }
        await new Promise<void>((resolve, reject) => {
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        });
      }
    } finally {
      db.close();
    }
  }
}

export async function deleteDatabases(prefix: string): Promise<void> {
  for (const { name } of await databaseNames(prefix)) {
    await request(indexedDB().deleteDatabase(name));
  }
}

export function seal(snapshots: DatabaseSnapshot[], fileKey: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", fileKey, iv);
  cipher.setAAD(MAGIC);
  const body = Buffer.concat([cipher.update(serialize(snapshots)), cipher.final()]);
  return Buffer.concat([MAGIC, iv, cipher.getAuthTag(), body]);
}

/** Throws when the file was not sealed with this key or was altered. */
export function unseal(file: Buffer, fileKey: Buffer): DatabaseSnapshot[] {
  if (!file.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error("not a crypto store file");
  const ivStart = MAGIC.length;
  const iv = file.subarray(ivStart, ivStart + IV_BYTES);
  const tag = file.subarray(ivStart + IV_BYTES, ivStart + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", fileKey, iv);
  decipher.setAAD(MAGIC);
  decipher.setAuthTag(tag);
  const body = file.subarray(ivStart + IV_BYTES + TAG_BYTES);
  // v8 deserialisation only runs on bytes that passed the GCM tag, i.e. that we wrote.
  return deserialize(Buffer.concat([decipher.update(body), decipher.final()]));
}

/** Written to a temporary file then renamed: a crash mid-write never leaves half a store. */
export async function writeSnapshotFile(
  path: string,
  snapshots: DatabaseSnapshot[],
  fileKey: Buffer,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, seal(snapshots, fileKey), { mode: 0o600 });
  await rename(temporary, path);
}

/** null when there is no file yet (first start). */
export async function readSnapshotFile(
  path: string,
  fileKey: Buffer,
): Promise<DatabaseSnapshot[] | null> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  return unseal(file, fileKey);
}
