/**
 * Type tests, checked by `tsc --noEmit` (this package's `typecheck`): an emulator's settings
 * fit its own vendor's factory and no other.
 */
import { createLatitudeKeyStore, latitudeDescriptor } from '@keyway/latitudesh'
import { createNoteDxKeyStore } from '@keyway/notedx'
import { createOpenRouterKeyStore } from '@keyway/openrouter'
import { type Emulator, startEmulator, type Vendor } from '@keyway/testkit'
import { createVoiceableKeyStore } from '@keyway/voiceable'

export async function emulatorSettingsFitTheirOwnVendorOnly(): Promise<void> {
  const openrouter = (await startEmulator('openrouter')).settings
  const latitudesh = (await startEmulator('latitudesh')).settings
  const notedx = (await startEmulator('notedx')).settings
  const voiceable = (await startEmulator('voiceable')).settings

  createOpenRouterKeyStore(openrouter)
  // @ts-expect-error Latitude.sh settings are not OpenRouter settings
  createOpenRouterKeyStore(latitudesh)
  // @ts-expect-error NoteDx settings are not OpenRouter settings
  createOpenRouterKeyStore(notedx)
  // @ts-expect-error Voiceable settings are not OpenRouter settings
  createOpenRouterKeyStore(voiceable)

  createLatitudeKeyStore(latitudesh)
  // @ts-expect-error OpenRouter settings are not Latitude.sh settings
  createLatitudeKeyStore(openrouter)
  // @ts-expect-error NoteDx settings are not Latitude.sh settings
  createLatitudeKeyStore(notedx)
  // @ts-expect-error Voiceable settings are not Latitude.sh settings
  createLatitudeKeyStore(voiceable)

  createNoteDxKeyStore(notedx)
  // @ts-expect-error OpenRouter settings are not NoteDx settings
  createNoteDxKeyStore(openrouter)
  // @ts-expect-error Latitude.sh settings are not NoteDx settings
  createNoteDxKeyStore(latitudesh)
  // @ts-expect-error Voiceable settings are not NoteDx settings
  createNoteDxKeyStore(voiceable)

  // The descriptors' factories are the same functions, typed the same way.
  // @ts-expect-error NoteDx settings are not Latitude.sh settings
  latitudeDescriptor.create(notedx)

  createVoiceableKeyStore(voiceable)
  // @ts-expect-error OpenRouter settings are not Voiceable settings
  createVoiceableKeyStore(openrouter)
  // @ts-expect-error Latitude.sh settings are not Voiceable settings
  createVoiceableKeyStore(latitudesh)
  // @ts-expect-error NoteDx settings are not Voiceable settings
  createVoiceableKeyStore(notedx)
}

export async function otherSettingsStillFit(vendor: Vendor): Promise<void> {
  // A user's own settings, inline or in a variable, carry no mark.
  createOpenRouterKeyStore({ baseUrl: 'http://127.0.0.1:9', managementKey: 'fake-management-key' })
  const mine = { baseUrl: 'http://127.0.0.1:9', token: 'fake-token', retry: false as const }
  createLatitudeKeyStore(mine)
  createVoiceableKeyStore({ apiKey: 'fake-api-key', credentialKeyId: '1' })
  createNoteDxKeyStore({ email: 'someone@example.test', password: 'fake-password' })

  // The right emulator's settings, spread with more settings of the same factory.
  const notedx = await startEmulator('notedx')
  createNoteDxKeyStore({ ...notedx.settings, retry: false })
  const vendorOfNoteDx: 'notedx' = notedx.vendor
  // @ts-expect-error the vendor is known to be NoteDx
  const notOpenRouter: 'openrouter' = notedx.vendor

  // Through the vendor's descriptor, and where the vendor is only known at run time.
  latitudeDescriptor.create((await startEmulator('latitudesh')).settings)
  const any = await startEmulator(vendor)
  const settings: Record<string, string> = any.settings
  // Code that names the type without a vendor keeps compiling.
  const annotated: Emulator = notedx
  void [vendorOfNoteDx, notOpenRouter, settings, annotated]
}
