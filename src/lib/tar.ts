/**
 * A gzipped tar of regular files, byte-identical for the same files: ustar headers with
 * owner 0:0, mtime 0 and the files sorted by path. Enough for Atrium's own sources
 * (paths under 100 bytes, no links, no folders: tar makes them on extraction).
 */
import { gzipSync } from "node:zlib";

export interface TarFile {
  path: string;
  content: Buffer;
  mode: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(file: TarFile): Buffer {
  const name = Buffer.from(file.path, "utf8");
  if (name.length > 100) throw new Error(`tar: path longer than 100 bytes: ${file.path}`);
  const h = Buffer.alloc(BLOCK, 0);
  name.copy(h, 0);
  h.write(octal(file.mode & 0o7777, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii"); // uid
  h.write(octal(0, 8), 116, "ascii"); // gid
  h.write(octal(file.content.length, 12), 124, "ascii");
  h.write(octal(0, 12), 136, "ascii"); // mtime
  h.write("        ", 148, "ascii"); // checksum placeholder: 8 spaces while summing
  h.write("0", 156, "ascii"); // a regular file
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

export function tarGz(files: TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    parts.push(header(file), file.content);
    const pad = (BLOCK - (file.content.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}
