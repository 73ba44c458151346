/**
 * What the fake homeserver remembers: rooms with their state and timeline, device keys,
 * one-time keys, to-device messages, and one global stream ordering them so `/sync?since=`
 * returns exactly what happened after a token (spec "Syncing", "End-to-end encryption").
 */

export interface MatrixEvent {
  type: string;
  sender: string;
  content: Record<string, unknown>;
  event_id: string;
  origin_server_ts: number;
  room_id: string;
  state_key?: string;
}

export interface RoomSetup {
  /** User ids that have joined; a send from anyone else gets 403. */
  members: string[];
  /** Adds `m.room.encryption` (megolm) to the room's state. */
  encrypted?: boolean;
  /** Content of `m.room.power_levels`; without it everyone may send (spec defaults). */
  powerLevels?: Record<string, unknown>;
}

type StreamItem =
  | { kind: "room"; roomId: string; event: MatrixEvent }
  | { kind: "to-device"; userId: string; deviceId: string; event: Record<string, unknown> }
  | { kind: "keys"; userId: string }
  | { kind: "account-data"; userId: string; type: string };

const MEGOLM = "m.megolm.v1.aes-sha2";

export class HomeserverState {
  readonly stream: StreamItem[] = [];
  readonly rooms = new Map<string, { members: string[] }>();
  /** user → device → signed device keys, as uploaded. */
  readonly deviceKeys = new Map<string, Map<string, Record<string, unknown>>>();
  /** How many times each `user|device` uploaded device keys that differ from the stored ones. */
  readonly deviceKeyChanges = new Map<string, number>();
  /** user → cross-signing keys (`master`, `self_signing`, `user_signing`). */
  readonly crossSigning = new Map<string, Record<string, Record<string, unknown>>>();
  /** user → event type → content: global account data (spec "Client Config"). */
  readonly accountData = new Map<string, Map<string, Record<string, unknown>>>();
  /** Sessions of user-interactive auth handed out by 401 answers, not yet completed. */
  readonly uiaSessions = new Set<string>();
  private readonly oneTimeKeys = new Map<string, Map<string, unknown>>();
  private readonly fallbackKeys = new Map<string, Map<string, unknown>>();
  private readonly waiters = new Set<() => void>();
  private nextEvent = 1;

  constructor(rooms: Record<string, RoomSetup>) {
    for (const [roomId, setup] of Object.entries(rooms)) {
      const creator = setup.members[0] ?? "@creator:fake";
      this.rooms.set(roomId, { members: [...setup.members] });
      this.addEvent(roomId, creator, "m.room.create", { room_version: "10", creator }, "");
      for (const member of setup.members) {
        this.addEvent(roomId, member, "m.room.member", { membership: "join" }, member);
      }
      if (setup.powerLevels) {
        this.addEvent(roomId, creator, "m.room.power_levels", setup.powerLevels, "");
      }
      if (setup.encrypted) {
        this.addEvent(roomId, creator, "m.room.encryption", { algorithm: MEGOLM }, "");
      }
    }
  }

  get position(): number {
    return this.stream.length;
  }

  addEvent(
    roomId: string,
    sender: string,
    type: string,
    content: Record<string, unknown>,
    stateKey?: string,
  ): MatrixEvent {
    const event: MatrixEvent = {
      type,
      sender,
      content,
      event_id: `$event${this.nextEvent++}`,
      origin_server_ts: Date.now(),
      room_id: roomId,
      ...(stateKey !== undefined ? { state_key: stateKey } : {}),
    };
    this.push({ kind: "room", roomId, event });
    return event;
  }

  roomEvents(roomId: string): MatrixEvent[] {
    return this.stream.flatMap((item) =>
      item.kind === "room" && item.roomId === roomId ? [item.event] : [],
    );
  }

  /** Current state: the last event of each (type, state_key). */
  roomState(roomId: string): MatrixEvent[] {
    const state = new Map<string, MatrixEvent>();
    for (const event of this.roomEvents(roomId)) {
      if (event.state_key !== undefined) state.set(`${event.type}\u0000${event.state_key}`, event);
    }
    return [...state.values()];
  }

  roomsOf(userId: string): string[] {
    return [...this.rooms].filter(([, room]) => room.members.includes(userId)).map(([id]) => id);
  }

  uploadKeys(userId: string, deviceId: string, body: Record<string, unknown>): number {
    const device = `${userId}|${deviceId}`;
    const keys = body.device_keys as Record<string, unknown> | undefined;
    if (keys) {
      const devices = this.deviceKeys.get(userId) ?? new Map();
      const previous = devices.get(deviceId);
      if (previous && !sameKeys(previous, keys)) {
        this.deviceKeyChanges.set(device, (this.deviceKeyChanges.get(device) ?? 0) + 1);
      }
      devices.set(deviceId, keys);
      this.deviceKeys.set(userId, devices);
      if (!previous || !sameKeys(previous, keys)) this.push({ kind: "keys", userId });
    }
    const otks = this.oneTimeKeys.get(device) ?? new Map<string, unknown>();
    for (const [id, key] of Object.entries((body.one_time_keys as object) ?? {})) otks.set(id, key);
    this.oneTimeKeys.set(device, otks);
    const fallback = body.fallback_keys as Record<string, unknown> | undefined;
    if (fallback && Object.keys(fallback).length > 0) {
      this.fallbackKeys.set(device, new Map(Object.entries(fallback)));
    }
    return otks.size;
  }

  oneTimeKeyCount(userId: string, deviceId: string): number {
    return this.oneTimeKeys.get(`${userId}|${deviceId}`)?.size ?? 0;
  }

  hasFallbackKey(userId: string, deviceId: string): boolean {
    return (this.fallbackKeys.get(`${userId}|${deviceId}`)?.size ?? 0) > 0;
  }

  /** One one-time key of `algorithm` per device, used once; else the fallback key. */
  claimKey(userId: string, deviceId: string, algorithm: string): Record<string, unknown> | null {
    const device = `${userId}|${deviceId}`;
    const otks = this.oneTimeKeys.get(device);
    for (const [id, key] of otks ?? []) {
      if (id.startsWith(`${algorithm}:`)) {
        otks?.delete(id);
        return { [id]: key };
      }
    }
    for (const [id, key] of this.fallbackKeys.get(device) ?? []) {
      if (id.startsWith(`${algorithm}:`)) return { [id]: key };
    }
    return null;
  }

  uploadCrossSigning(userId: string, body: Record<string, unknown>): void {
    const keys = this.crossSigning.get(userId) ?? {};
    for (const name of ["master_key", "self_signing_key", "user_signing_key"]) {
      const key = body[name] as Record<string, unknown> | undefined;
      if (key) keys[name] = key;
    }
    this.crossSigning.set(userId, keys);
    this.push({ kind: "keys", userId });
  }

  /** Merges uploaded signatures into the device or cross-signing key they sign. */
  uploadSignatures(body: Record<string, Record<string, Record<string, unknown>>>): void {
    for (const [userId, byKey] of Object.entries(body)) {
      for (const [keyId, signed] of Object.entries(byKey)) {
        const target =
          this.deviceKeys.get(userId)?.get(keyId) ??
          Object.values(this.crossSigning.get(userId) ?? {}).find((key) =>
            Object.keys((key.keys as object) ?? {}).some((id) => id.endsWith(`:${keyId}`)),
          );
        if (!target) continue;
        const signatures = (target.signatures ?? {}) as Record<string, Record<string, string>>;
        for (const [signer, sigs] of Object.entries(
          (signed.signatures ?? {}) as Record<string, Record<string, string>>,
        )) {
          signatures[signer] = { ...signatures[signer], ...sigs };
        }
        target.signatures = signatures;
      }
      this.push({ kind: "keys", userId });
    }
  }

  setAccountData(userId: string, type: string, content: Record<string, unknown>): void {
    const mine = this.accountData.get(userId) ?? new Map();
    mine.set(type, content);
    this.accountData.set(userId, mine);
    this.push({ kind: "account-data", userId, type });
  }

  sendToDevice(sender: string, type: string, messages: Record<string, Record<string, object>>) {
    for (const [userId, byDevice] of Object.entries(messages)) {
      for (const [deviceId, content] of Object.entries(byDevice)) {
        const targets =
          deviceId === "*" ? [...(this.deviceKeys.get(userId)?.keys() ?? [])] : [deviceId];
        for (const target of targets) {
          this.push({
            kind: "to-device",
            userId,
            deviceId: target,
            event: { sender, type, content },
          });
        }
      }
    }
  }

  /** Items after `since` that concern this device. */
  changesFor(userId: string, deviceId: string, since: number): StreamItem[] {
    const rooms = new Set(this.roomsOf(userId));
    return this.stream.slice(since).filter((item) => {
      if (item.kind === "room") return rooms.has(item.roomId);
      if (item.kind === "to-device") return item.userId === userId && item.deviceId === deviceId;
      if (item.kind === "account-data") return item.userId === userId;
      return true;
    });
  }

  /** Resolves when something new is in the stream, or after `timeoutMs`. */
  waitForChange(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      signal.addEventListener("abort", done);
    });
  }

  private push(item: StreamItem): void {
    this.stream.push(item);
    for (const waiter of [...this.waiters]) waiter();
  }
}

function sameKeys(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return JSON.stringify(a.keys) === JSON.stringify(b.keys);
}
