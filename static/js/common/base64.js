// The one base64 decoder of the project's browser code: Python sends float32 arrays as base64 of their
// little-endian bytes (exact, and a third of the size of JSON numbers). Explore and the playground import it.

/** The bytes of a base64 string. */
export function decodeBytes(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Float32 values from base64 of little-endian float32 bytes. */
export function decodeF32(b64) {
  return new Float32Array(decodeBytes(b64).buffer);
}

/** base64 of a Float32Array's little-endian bytes (what Python's checks expect: the playground's Save). */
export function encodeF32(values) {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
