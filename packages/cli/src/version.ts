/** Replaced with the `version` of this package's package.json when it is built or tested. */
declare const __PACKAGE_VERSION__: string

/** This package's version, as its package.json says. */
export const VERSION: string = __PACKAGE_VERSION__
