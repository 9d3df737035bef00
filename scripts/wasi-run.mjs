// Runs a wasm32-wasip1 test binary in Node's V8, the engine Envoy runs the filter in: the
// filter's unit tests compiled to Wasm. scripts/test.sh sets it as cargo's runner:
//   CARGO_TARGET_WASM32_WASIP1_RUNNER="node scripts/wasi-run.mjs"
//
// It brings its own minimal WASI (preview 1): arguments, environment, clocks, randomness,
// stdout/stderr, exit. Node 20's built-in `node:wasi` crashed (SIGSEGV, or a trap) when a
// program that had grown its memory wrote output: a 20-line program allocating 200 MiB and
// printing crashed 2 runs out of 5 with it, the filter's test binary nearly always. The tests
// need no file system, so none is offered (calls get EBADF or ENOSYS).
//
// The test binary links the proxy-wasm glue, which imports host functions from "env"; unit
// tests never call them, so they are stubs that throw if they ever are.
import { readFileSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import process from 'node:process';

const [file, ...args] = process.argv.slice(2);
const ESUCCESS = 0, EBADF = 8, EINVAL = 28, ENOSYS = 52;
const encoder = new TextEncoder();

class Exit {
  constructor(code) { this.code = code; }
}

let memory;
// Always a fresh view: a grown memory has a new buffer.
const view = () => new DataView(memory.buffer);
const bytes = () => new Uint8Array(memory.buffer);

// Writes a list of NUL-terminated strings and the pointers to them (args_get, environ_get).
function putStrings(list, ptrs, buf) {
  const v = view();
  const b = bytes();
  let at = buf;
  list.forEach((s, i) => {
    v.setUint32(ptrs + 4 * i, at, true);
    const e = encoder.encode(s + '\0');
    b.set(e, at);
    at += e.length;
  });
  return ESUCCESS;
}

function sizes(list, countPtr, sizePtr) {
  const v = view();
  v.setUint32(countPtr, list.length, true);
  v.setUint32(sizePtr, list.reduce((n, s) => n + encoder.encode(s).length + 1, 0), true);
  return ESUCCESS;
}

const argv = [file, ...args];
const environ = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);

const wasi = {
  args_sizes_get: (c, s) => sizes(argv, c, s),
  args_get: (p, b) => putStrings(argv, p, b),
  environ_sizes_get: (c, s) => sizes(environ, c, s),
  environ_get: (p, b) => putStrings(environ, p, b),
  clock_time_get(id, _precision, out) {
    const now = id === 0 ? BigInt(Date.now()) * 1000000n : process.hrtime.bigint();
    view().setBigUint64(out, now, true);
    return ESUCCESS;
  },
  random_get(buf, len) {
    randomFillSync(bytes(), buf, len);
    return ESUCCESS;
  },
  fd_write(fd, iovs, iovsLen, nwritten) {
    if (fd !== 1 && fd !== 2) return EBADF;
    const v = view();
    let total = 0;
    for (let i = 0; i < iovsLen; i++) {
      const ptr = v.getUint32(iovs + 8 * i, true);
      const len = v.getUint32(iovs + 8 * i + 4, true);
      let done = 0;
      while (done < len) done += writeSync(fd, bytes(), ptr + done, len - done);
      total += len;
    }
    view().setUint32(nwritten, total, true);
    return ESUCCESS;
  },
  fd_fdstat_get(fd, out) {
    if (fd > 2) return EBADF;
    const v = view();
    v.setUint8(out, 2); // character device
    v.setUint16(out + 2, 0, true);
    v.setBigUint64(out + 8, 0xffffffffn, true);
    v.setBigUint64(out + 16, 0xffffffffn, true);
    return ESUCCESS;
  },
  fd_prestat_get: () => EBADF, // no preopened directories: no file system
  fd_prestat_dir_name: () => EBADF,
  fd_close: () => EBADF,
  sched_yield: () => ESUCCESS,
  proc_exit(code) {
    throw new Exit(code);
  },
};

const module = new WebAssembly.Module(readFileSync(file));
const imports = { wasi_snapshot_preview1: {} };
for (const imp of WebAssembly.Module.imports(module)) {
  if (imp.kind !== 'function') continue;
  imports[imp.module] ??= {};
  if (imp.module === 'wasi_snapshot_preview1') {
    imports[imp.module][imp.name] = wasi[imp.name] ?? (() => (imp.name.startsWith('fd_') || imp.name.startsWith('path_') ? EBADF : ENOSYS));
  } else {
    imports[imp.module][imp.name] = () => {
      throw new Error(`proxy-wasm host function ${imp.name} called outside a proxy`);
    };
  }
}
const instance = new WebAssembly.Instance(module, imports);
memory = instance.exports.memory;
let code = 0;
try {
  // A WASI command: `_start` runs main. (The filter also exports `_initialize`, the
  // proxy-wasm entry point, which a command never calls.)
  instance.exports._start();
} catch (e) {
  if (e instanceof Exit) code = e.code;
  else {
    console.error(e);
    code = 134;
  }
}
process.exitCode = code === undefined ? EINVAL : code;
