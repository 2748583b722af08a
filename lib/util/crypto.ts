import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
  createSecretKey,
} from 'node:crypto';

/** What a key is used for; each purpose gets its own HKDF-derived key so one can never open another's data. */
export type KeyPurpose = 'session' | 'transaction' | 'store' | 'launch';

const VERSION = 1;
const KID_LENGTH = 4;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER = 1 + KID_LENGTH;

interface Key {
  kid: Buffer;
  /** kid read as a number, for a Map lookup instead of a loop of buffer compares on every request. */
  kidNumber: number;
  key: KeyObject;
}

function deriveKey(secret: string, purpose: KeyPurpose): Key {
  const raw = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `express-sso-guard ${purpose} v${VERSION}`, 32));
  // The kid is a hash of the derived key, not of the secret: it names the key without revealing anything.
  const kid = createHash('sha256').update(raw).digest().subarray(0, KID_LENGTH);
  return { kid, kidNumber: kid.readUInt32BE(0), key: createSecretKey(raw) };
}

/** Authenticated data: the fixed-length header, then the context (if any). */
function aad(header: Buffer, context: string | undefined): Buffer {
  return context === undefined ? header : Buffer.concat([header, Buffer.from(`\0${context}`, 'utf8')]);
}

/**
 * AES-256-GCM sealing with keys derived once (HKDF-SHA256) from the configured secrets. The first
 * secret seals; every secret opens. A key id in the header picks the key, so a rotated cookie is
 * opened with one decryption, never by trial. An optional `context` (e.g. a store value's purpose
 * and full key) is authenticated with the header: a value only opens with the context it was
 * sealed with, so it cannot be moved to another key or used for another purpose.
 */
export class Sealer {
  private readonly current: Key;
  private readonly byKid = new Map<number, Key>();

  constructor(secrets: readonly string[], purpose: KeyPurpose) {
    const keys = secrets.map((s) => deriveKey(s, purpose));
    this.current = keys[0]!;
    // Keep the first key of a kid: the newest secret wins a (2^-32) collision.
    for (const k of keys) if (!this.byKid.has(k.kidNumber)) this.byKid.set(k.kidNumber, k);
  }

  /** Encrypts and authenticates `plaintext` (and `context`, not stored); returns base64url text. */
  seal(plaintext: string, context?: string): string {
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const header = Buffer.allocUnsafe(HEADER);
    header[0] = VERSION;
    this.current.kid.copy(header, 1);
    cipher.setAAD(aad(header, context));
    const body = cipher.update(plaintext, 'utf8');
    const final = cipher.final();
    return Buffer.concat([header, iv, body, final, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * Opens a sealed text; `undefined` for anything forged, truncated, foreign, malformed or sealed
   * with another `context`. Never throws.
   */
  open(sealed: string, context?: string): string | undefined {
    if (sealed.length < 44 || sealed.length > 16384) return undefined;
    const buf = Buffer.from(sealed, 'base64url');
    if (buf.length < HEADER + IV_LENGTH + TAG_LENGTH || buf[0] !== VERSION) return undefined;
    // Node's decoder skips characters outside the alphabet and ignores trailing bits, so many
    // strings decode to the same bytes: only the exact encoding we wrote opens (no malleability).
    if (buf.toString('base64url') !== sealed) return undefined;
    const key = this.byKid.get(buf.readUInt32BE(1));
    if (key === undefined) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, buf.subarray(HEADER, HEADER + IV_LENGTH), {
        authTagLength: TAG_LENGTH,
      });
      decipher.setAAD(aad(buf.subarray(0, HEADER), context));
      decipher.setAuthTag(buf.subarray(buf.length - TAG_LENGTH));
      const out = decipher.update(buf.subarray(HEADER + IV_LENGTH, buf.length - TAG_LENGTH), undefined, 'utf8');
      return out + decipher.final('utf8');
    } catch {
      return undefined;
    }
  }

  /** True when `sealed` was sealed with a key other than the current one (it should be resealed). */
  isStale(sealed: string): boolean {
    const buf = Buffer.from(sealed.slice(0, 8), 'base64url');
    return buf.length < HEADER || buf.readUInt32BE(1) !== this.current.kidNumber;
  }
}

/** SHA-256 of a token, base64url. Cache and store keys are always hashes, never raw tokens. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Constant-time string comparison (lengths are compared first; they are not secret here). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** A random base64url string of `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Reads the `exp` claim (seconds) of a JWT-shaped token without verifying it; undefined if absent. */
export function jwtExpiry(token: string): number | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 1 || second < 0) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}
