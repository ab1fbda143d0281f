/**
 * Encryption at rest of users' private SSH keys: AES-256-GCM under the bridge's secret
 * key, with the owner bound as additional data so a row copied to another user fails.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

function keyBytes(hexKey: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hexKey)) {
    throw new Error('the secret key must be 64 hex characters');
  }
  return Buffer.from(hexKey, 'hex');
}

/** `v1:IV.TAG.CIPHERTEXT` (base64 parts). */
export function encryptSecret(
  hexKey: string,
  plaintext: string,
  aad: string
): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyBytes(hexKey), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${VERSION}:${[iv, tag, ct].map(b => b.toString('base64')).join('.')}`;
}

/** Throws when the key or the additional data differ from those used to encrypt. */
export function decryptSecret(
  hexKey: string,
  sealed: string,
  aad: string
): string {
  const [version, body] = sealed.split(':', 2);
  const parts = (body ?? '').split('.');
  if (version !== VERSION || parts.length !== 3) {
    throw new Error('unknown encrypted secret format');
  }
  const [iv, tag, ct] = parts.map(p => Buffer.from(p, 'base64')) as [
    Buffer,
    Buffer,
    Buffer
  ];
  const decipher = createDecipheriv('aes-256-gcm', keyBytes(hexKey), iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString(
      'utf8'
    );
  } catch {
    throw new Error(
      'cannot decrypt a stored SSH key: wrong HPC_BRIDGE_SECRET_KEY?'
    );
  }
}
