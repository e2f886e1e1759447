/**
 * A framework-neutral tenant administration API over any `TenantStore`:
 * create, read, update, soft delete and restore, list with filters and
 * pagination, suspend and resume, set quota and policy, manage domains; with
 * a required authorization callback, an audit hook, field-level validation
 * messages and optimistic concurrency (ETag / If-Match).
 *
 * @packageDocumentation
 */
export { createTenantAdmin } from './admin.js';
export { createAdminNodeHandler, writeAdminResponse } from './node.js';
export type { AdminNodeHandler, AdminNodeHandlerOptions } from './node.js';
export { ADMIN_ERROR_STATUS } from './problem.js';
export type { AdminHttpErrorCode, AdminProblemType } from './problem.js';
export type {
  AdminAction,
  AdminWriteAction,
  AdminHeaderValue,
  AdminRequest,
  AdminResponse,
  AdminAuthorizeInput,
  AdminAuthorize,
  AdminAuditEntry,
  AdminErrorPhase,
  AdminErrorEvent,
  TenantAdminOptions,
  TenantAdmin,
  AdminErrorCode,
  AdminFieldError,
} from './types.js';
