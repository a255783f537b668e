import { createHash, createHmac } from 'node:crypto'
import type { EmulatedRequest } from './http-server.js'

/** What a SigV4 check holds the request to. */
export interface SigV4Expectation {
  accessKeyId: string
  secretAccessKey: string
  /** Required in `x-amz-security-token` when set. */
  sessionToken?: string | undefined
  region: string
  service: string
  /** How far the request's time may be from now. AWS allows 15 minutes. */
  maxSkewMs?: number
}

/** Why a request's signature was refused, as AWS names it. */
export interface SigV4Refusal {
  type:
    | 'MissingAuthenticationTokenException'
    | 'IncompleteSignatureException'
    | 'UnrecognizedClientException'
    | 'InvalidSignatureException'
  message: string
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/

/**
 * Checks a request's SigV4 signature (header form) the way AWS does: the credential scope,
 * the time, the session token, and the signature over the canonical request, computed here
 * independently of any client's signer. `undefined` when it holds.
 */
export function verifySigV4(
  request: EmulatedRequest,
  expected: SigV4Expectation,
  now = Date.now(),
): SigV4Refusal | undefined {
  const header = request.headers.authorization
  if (header === undefined) {
    return {
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    }
  }
  const match = AUTHORIZATION.exec(header)
  const amzDate = request.headers['x-amz-date']
  if (match === null || amzDate === undefined || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    return {
      type: 'IncompleteSignatureException',
      message:
        'Authorization header requires Credential, SignedHeaders and Signature, and X-Amz-Date must be set.',
    }
  }
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  if (accessKeyId !== expected.accessKeyId) {
    return {
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    }
  }
  if (
    expected.sessionToken !== undefined &&
    request.headers['x-amz-security-token'] !== expected.sessionToken
  ) {
    return {
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    }
  }
  if (date !== amzDate.slice(0, 8) || region !== expected.region || service !== expected.service) {
    return {
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid region and service (${expected.region}/${expected.service}) and the request's date.`,
    }
  }
  const at = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  )
  if (Math.abs(now - at) > (expected.maxSkewMs ?? 15 * 60_000)) {
    return {
      type: 'InvalidSignatureException',
      message: 'Signature expired: the request time is too far from now.',
    }
  }
  const names = signedHeaders.split(';')
  if (!names.includes('host') || names.some((name) => request.headers[name] === undefined)) {
    return {
      type: 'InvalidSignatureException',
      message: 'The request signature we calculated does not match the signature you provided.',
    }
  }
  const canonicalHeaders = names
    .map((name) => `${name}:${(request.headers[name] as string).trim().replace(/\s+/g, ' ')}\n`)
    .join('')
  // The body is hashed here; a client's own x-amz-content-sha256 must agree with it.
  const payloadHash = sha256(request.rawBody ?? '')
  const declared = request.headers['x-amz-content-sha256']
  if (declared !== undefined && declared !== payloadHash) {
    return {
      type: 'InvalidSignatureException',
      message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
    }
  }
  const canonicalRequest = [
    request.method,
    canonicalPath(request.path),
    canonicalQuery(request.query),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n')
  const scope = `${date}/${region}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n')
  let key = hmac(`AWS4${expected.secretAccessKey}`, date)
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part)
  const computed = createHmac('sha256', key).update(stringToSign).digest('hex')
  if (computed !== signature) {
    return {
      type: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    }
  }
  return undefined
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest()
}

/** RFC 3986 encoding, as SigV4 wants it. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

/** Each segment encoded twice over, as every service but S3 signs the path. */
function canonicalPath(path: string): string {
  return path
    .split('/')
    .map((segment) => encode(encode(decodeURIComponent(segment))))
    .join('/')
}

function canonicalQuery(query: URLSearchParams): string {
  return [...query.entries()]
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
}
