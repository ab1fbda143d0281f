/**
 * The version of this extension, compared with the bridge's at start.
 * Kept equal to package.json's `version` (checked by a unit test).
 */
export const EXTENSION_VERSION = '0.1.0';
