// The package ships no types; this is the one function keyway calls.
declare module 'tweetnacl-sealedbox-js' {
  /** libsodium's `crypto_box_seal`: seals `message` for `publicKey` (32 bytes). */
  export function seal(message: Uint8Array, publicKey: Uint8Array): Uint8Array
  const sealedbox: { seal: typeof seal }
  export default sealedbox
}
