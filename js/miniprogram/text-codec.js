// Injected by the build into the Mini Program bundle in place of the
// TextEncoder/TextDecoder globals, which the Mini Program runtime lacks.
export { TextEncoder, TextDecoder } from '../core/utf8.js';
