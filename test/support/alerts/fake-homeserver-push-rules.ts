/**
 * The server-default push rules a homeserver gives every account (spec v1.12 "Push Rules",
 * "Predefined Rules"), trimmed to the rules that can match a room message. Served by
 * `GET /pushrules/` and as the `m.push_rules` account data of an initial sync, as Synapse does.
 */
const eventMatch = (key: string, pattern: string) => ({ kind: "event_match", key, pattern });
const memberCount = (is: string) => ({ kind: "room_member_count", is });
const sound = { set_tweak: "sound", value: "default" };

const override = [
  { rule_id: ".m.rule.master", default: true, enabled: false, conditions: [], actions: [] },
  {
    rule_id: ".m.rule.suppress_notices",
    default: true,
    enabled: true,
    conditions: [eventMatch("content.msgtype", "m.notice")],
    actions: [],
  },
  {
    rule_id: ".m.rule.member_event",
    default: true,
    enabled: true,
    conditions: [eventMatch("type", "m.room.member")],
    actions: [],
  },
  {
    rule_id: ".m.rule.is_room_mention",
    default: true,
    enabled: true,
    conditions: [
      { kind: "event_property_is", key: "content.m\\.mentions.room", value: true },
      { kind: "sender_notification_permission", key: "room" },
    ],
    actions: ["notify", { set_tweak: "highlight" }],
  },
  {
    rule_id: ".m.rule.reaction",
    default: true,
    enabled: true,
    conditions: [eventMatch("type", "m.reaction")],
    actions: [],
  },
];

const underride = [
  {
    rule_id: ".m.rule.encrypted_room_one_to_one",
    default: true,
    enabled: true,
    conditions: [memberCount("2"), eventMatch("type", "m.room.encrypted")],
    actions: ["notify", sound],
  },
  {
    rule_id: ".m.rule.room_one_to_one",
    default: true,
    enabled: true,
    conditions: [memberCount("2"), eventMatch("type", "m.room.message")],
    actions: ["notify", sound],
  },
  {
    rule_id: ".m.rule.message",
    default: true,
    enabled: true,
    conditions: [eventMatch("type", "m.room.message")],
    actions: ["notify"],
  },
  {
    rule_id: ".m.rule.encrypted",
    default: true,
    enabled: true,
    conditions: [eventMatch("type", "m.room.encrypted")],
    actions: ["notify"],
  },
];

export function defaultPushRules(): Record<string, unknown> {
  return { global: { override, content: [], room: [], sender: [], underride } };
}
