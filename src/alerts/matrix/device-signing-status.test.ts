import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deviceSigningStatus } from "./device-signing-status.ts";

const BOT = "@alertes:agent.dinum.tchap.gouv.fr";
const device = (signatures: Record<string, string>) => ({
  user_id: BOT,
  device_id: "BOTDEVICE",
  keys: { "ed25519:BOTDEVICE": "DEV" },
  signatures: { [BOT]: { "ed25519:BOTDEVICE": "self", ...signatures } },
});
const master = { user_id: BOT, usage: ["master"], keys: { "ed25519:MSK": "MSK" } };
const selfSigning = (signatures: Record<string, string>) => ({
  user_id: BOT,
  usage: ["self_signing"],
  keys: { "ed25519:SSK": "SSK" },
  signatures: { [BOT]: signatures },
});

describe("deviceSigningStatus", () => {
  it("says signed when the self-signing key signs the device and the master key signs it", () => {
    const answer = {
      device_keys: { [BOT]: { BOTDEVICE: device({ "ed25519:SSK": "sig" }) } },
      master_keys: { [BOT]: master },
      self_signing_keys: { [BOT]: selfSigning({ "ed25519:MSK": "sig" }) },
    };
    assert.equal(deviceSigningStatus(answer, BOT, "BOTDEVICE"), "signed");
  });

  it("says not signed when the identity exists but only the device signs itself", () => {
    const answer = {
      device_keys: { [BOT]: { BOTDEVICE: device({}) } },
      master_keys: { [BOT]: master },
      self_signing_keys: { [BOT]: selfSigning({ "ed25519:MSK": "sig" }) },
    };
    assert.equal(deviceSigningStatus(answer, BOT, "BOTDEVICE"), "not-signed");
  });

  it("says not signed when the self-signing key is not signed by the master key", () => {
    const answer = {
      device_keys: { [BOT]: { BOTDEVICE: device({ "ed25519:SSK": "sig" }) } },
      master_keys: { [BOT]: master },
      self_signing_keys: { [BOT]: selfSigning({ "ed25519:OTHER": "sig" }) },
    };
    assert.equal(deviceSigningStatus(answer, BOT, "BOTDEVICE"), "not-signed");
  });

  it("tells a missing identity from a device that never published keys", () => {
    const noIdentity = { device_keys: { [BOT]: { BOTDEVICE: device({}) } } };
    assert.equal(deviceSigningStatus(noIdentity, BOT, "BOTDEVICE"), "no-identity");
    assert.equal(
      deviceSigningStatus({ device_keys: { [BOT]: {} } }, BOT, "BOTDEVICE"),
      "no-device-keys",
    );
    assert.equal(deviceSigningStatus({}, BOT, "BOTDEVICE"), "no-device-keys");
  });
});
