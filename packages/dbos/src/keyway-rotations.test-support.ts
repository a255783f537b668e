// Options for tests of what defineKeywayRotations refuses: nothing here connects or registers.
import { randomBytes } from 'node:crypto'
import { ValidationError } from '@keyway/core'
import { defineKeywayRotations, type KeywayRotationsOptions } from './keyway-rotations.js'

/** A database no test reaches and a fresh sealing key: the options a refusal never uses. */
export const UNUSED_CONNECTION = {
  databaseUrl: 'postgresql://127.0.0.1:1/unused',
  sealingKey: randomBytes(32).toString('base64'),
}

/** The `ValidationError` defineKeywayRotations throws for `options`; any other outcome fails. */
export function refusalOf(options: KeywayRotationsOptions): ValidationError {
  try {
    defineKeywayRotations(options)
  } catch (error) {
    if (error instanceof ValidationError) return error
    throw error
  }
  throw new Error('accepted')
}
