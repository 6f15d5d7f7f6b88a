// Protocol-neutral shapes of presence as the presence translators see it
// (RFC 8048 §6). The XMPP adapter turns <presence/> stanzas into XmppPresence
// and back; the SIP adapter turns application/pidf+xml bodies (RFC 3863, with
// the RFC 4479 data model and RFC 4480 RPID) into PresenceDoc and back
// (src/sip/bodies/pidf.ts). core/presence/map.ts translates between the two.

/** XMPP <show/> values (RFC 6121 §4.7.2.1). No <show/> means plainly available. */
export type Show = 'away' | 'chat' | 'dnd' | 'xa';

export const SHOWS: readonly Show[] = ['away', 'chat', 'dnd', 'xa'];

/** Human-readable text with its language: XMPP <status/>, PIDF <note/>. */
export interface LangText {
  text: string;
  /** xml:lang (explicit, or inherited from an enclosing element). */
  lang?: string;
}

/** One XMPP presence of one resource, reduced to what RFC 8048 maps. */
export interface XmppPresence {
  /** Resourcepart of the full JID; undefined for presence of the bare JID. */
  resource?: string;
  /** No type → true; type='unavailable' → false (other types are not presence notifications). */
  available: boolean;
  show?: Show;
  status?: LangText[];
  /** -128..127 (RFC 6121 §4.7.2.3). */
  priority?: number;
  /** The stanza's xml:lang ⇄ Content-Language (RFC 8048 Tables 1 and 2). */
  lang?: string;
}

/**
 * RFC 4480 <activities> values. The schema (§5.1) lists all of these but
 * "lunch", which the prose (§3.2) describes; it is accepted too. "other"
 * carries free text and is kept apart (PresencePerson.otherActivities).
 */
export const RPID_ACTIVITIES = [
  'appointment', 'away', 'breakfast', 'busy', 'dinner', 'holiday', 'in-transit', 'looking-for-work', 'lunch', 'meal',
  'meeting', 'on-the-phone', 'performance', 'permanent-absence', 'playing', 'presentation', 'shopping', 'sleeping',
  'spectator', 'steering', 'travel', 'tv', 'unknown', 'vacation', 'working', 'worship',
] as const;

export type RpidActivity = (typeof RPID_ACTIVITIES)[number];

/** RFC 4480 §3.14 <user-input>. */
export type UserInput = 'active' | 'idle';

/** The RFC 4479 <dm:person> element: what the presentity (the human) is doing. */
export interface PresencePerson {
  /** <rpid:activities> values (every <rpid:activities> element of the person, merged, in document order). */
  activities: RpidActivity[];
  /** Free text of <rpid:other> activities. */
  otherActivities?: string[];
  userInput?: UserInput;
  /** <dm:note> children of the person. */
  notes: LangText[];
}

/** A PIDF document, neutral (what the SIP side carries). */
export interface PresenceDoc {
  /** The presentity's URI (the `entity` attribute): pres:, sip: or im:. */
  entity: string;
  tuples: PresenceTuple[];
  /** <note> children of <presence> itself (about the presentity, not a tuple). */
  notes: LangText[];
  person?: PresencePerson;
  /**
   * The document's language: the SIP Content-Language header (RFC 8048 maps it
   * to and from the stanza's xml:lang). It is not part of the XML: the SIP
   * adapter sets it after parsing and sends it as a header; buildPidf ignores it.
   */
  lang?: string;
}

/** One <tuple>: one service of the presentity; the gateway maps one tuple to one XMPP resource. */
export interface PresenceTuple {
  /** xs:ID; for XMPP resources 'ID-' + the encoded resource (see map.ts). */
  id: string;
  basic: 'open' | 'closed';
  /** <show xmlns='jabber:client'> inside <status> (RFC 8048 §6.2 note 7). */
  show?: Show;
  /**
   * Text of the provisional <im:im xmlns:im='urn:ietf:params:xml:ns:pidf:im'>
   * status extension (RFC 3863 §4.3.1, RFC 3922 §5.1.5 / §5.2.10), as received.
   */
  im?: string;
  notes: LangText[];
  /** <contact>: URI (may be '') and priority 0..1 with at most 3 decimals (RFC 3863 §4.1.5). */
  contact?: { uri: string; priority?: number };
  timestamp?: Date;
  /** First <dm:deviceID> of the tuple (RFC 4479 §3.4, RFC 4480 §3.4). */
  deviceId?: string;
  /** <rpid:user-input> of the tuple (the service). */
  userInput?: UserInput;
}
