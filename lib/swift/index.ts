/**
 * OpenStack Swift: auth (tempauth v1, Keystone v3 password and application
 * credential), the object client, and temp URLs.
 */
export { SwiftClient, encodeObjectPath, SWIFT_DEFAULT_MAX_FILE_SIZE } from './client';
export type { SwiftClientOptions, SwiftInfo, ObjectInfo, PutObjectOptions, PutObjectResult } from './client';
export { OpenStackSession } from './session';
export type { SessionOptions } from './session';
export { validateAuthConfig, AUTH_TYPES } from './auth';
export type {
  OpenStackAuthConfig,
  TempauthConfig,
  KeystonePasswordConfig,
  KeystoneAppCredentialConfig,
  PresetTokenConfig,
  EndpointInterface,
  AuthGrant,
  CatalogService,
} from './auth';
export { keystoneV3Base, findEndpoint } from './keystone';
export { signTempUrl, tempUrlSignature, redactTempUrl, TEMP_URL_DIGESTS } from './tempurl';
export type { TempUrlDigest, TempUrlRequest } from './tempurl';
export { OpenStackError, isOpenStackError } from './errors';
export type { OpenStackErrorCode, OpenStackService } from './errors';
export { createHttpAgent, safeUrl } from './http';
export type { TlsTrust, HttpOptions } from './http';
