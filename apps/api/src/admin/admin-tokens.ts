/** Injection token of the {@link ResultCache} the admin routes purge. */
export const ADMIN_RESULT_CACHE = Symbol('ADMIN_RESULT_CACHE');
