import sealedbox from 'tweetnacl-sealedbox-js'

/**
 * Seals `value` for a base64 Curve25519 public key the way libsodium's `crypto_box_seal`
 * does (an ephemeral key pair, the nonce from BLAKE2b of both public keys), which is what
 * GitHub's secrets API takes; returns the sealed box in base64. Only the holder of the
 * private key (GitHub) can open it.
 */
export function sealForGitHub(value: string, publicKeyBase64: string): string {
  const publicKey = Buffer.from(publicKeyBase64, 'base64')
  const sealed = sealedbox.seal(new TextEncoder().encode(value), new Uint8Array(publicKey))
  return Buffer.from(sealed).toString('base64')
}
