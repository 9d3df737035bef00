// The whole filter module (glue and core, as Envoy loads it) run request after request in
// Node's V8 against a small proxy-wasm host written here: what one request costs inside the
// VM, host crossings included but none of Envoy's own work behind them. It sits between
// core/examples/request_bench.rs (the core alone) and scripts/bench.sh (all of Envoy).
//
//   node scripts/wasm-request-profile.mjs FILTER.wasm CONFIG.json [--requests N] [--get]
//        [--profile] [--top K]
//
// Each request: context created, request headers (a wrk-like POST /book with a 1 KiB JSON
// body, or a GET), the body in one part, response headers (200, a small JSON), its body, log,
// done, delete. Prints the median µs per request over 5 batches and the host calls made per
// request by name. With --profile, V8's sampling profiler runs over one more batch and the
// functions with the most self time are listed (names come from the module's name section:
// build it unstripped, `CARGO_PROFILE_RELEASE_STRIP=false`; scripts/bench.sh does).
import { readFileSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { Session } from 'node:inspector';
import process from 'node:process';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const [wasmFile, configFile] = argv.filter((a, i) => !a.startsWith('--')
  && !['--requests', '--top'].includes(argv[i - 1]));
if (!wasmFile || !configFile) {
  console.error('usage: node scripts/wasm-request-profile.mjs FILTER.wasm CONFIG.json '
    + '[--requests N] [--get] [--profile] [--top K]');
  process.exit(2);
}
const REQUESTS = opt('--requests', 2000);
const TOP = opt('--top', 30);
const GET = flag('--get');

const enc = new TextEncoder();
const config = enc.encode(readFileSync(configFile, 'utf8'));

function jsonBody(size) {
  const words = 'please confirm the booking for two guests arriving late with breakfast'.split(' ');
  const body = { task: 'book', messages: [] };
  for (let i = 0; JSON.stringify(body).length < size - 160; i++) {
    body.messages.push({
      id: i, role: i % 2 === 0 ? 'user' : 'assistant',
      created_at: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`,
      tokens: 20 + ((i * 37) % 400),
      text: Array.from({ length: 12 }, (_, k) => words[(i + k) % words.length]).join(' '),
    });
  }
  return JSON.stringify(body);
}
const requestBody = GET ? new Uint8Array() : enc.encode(jsonBody(1024));
const responseBody = enc.encode('{"ok":true}');
const requestHeaders = [
  [':authority', '127.0.0.1:10000'], [':path', GET ? '/status' : '/book'],
  [':method', GET ? 'GET' : 'POST'], [':scheme', 'http'],
  ...(GET ? [] : [['content-type', 'application/json'],
    ['content-length', String(requestBody.length)]]),
  ['x-forwarded-proto', 'http'], ['x-request-id', '5b1e0a8c-3f6e-4a52-9a8e-1c2d3e4f5a6b'],
].map(([k, v]) => [enc.encode(k), enc.encode(v)]);
const responseHeaders = [
  [':status', '200'], ['content-type', 'application/json'],
  ['content-length', String(responseBody.length)], ['x-envoy-upstream-service-time', '1'],
].map(([k, v]) => [enc.encode(k), enc.encode(v)]);

let memory;
let ex;
const calls = new Map();
const count = (name) => calls.set(name, (calls.get(name) || 0) + 1);
const view = () => new DataView(memory.buffer);
const u8 = () => new Uint8Array(memory.buffer);

// Hands bytes to the module the way Envoy does: memory from its allocator, then the pointer
// and size written where it asked.
function give(data, retPtr, retSize) {
  const p = data.length ? ex.proxy_on_memory_allocate(data.length) : 0;
  if (data.length) u8().set(data, p);
  view().setUint32(retPtr, p, true);
  view().setUint32(retSize, data.length, true);
  return 0;
}

// proxy-wasm's serialized header map: count, then each name's and value's length, then each
// name and value NUL-terminated.
function serialize(map) {
  let size = 4 + map.length * 8;
  for (const [k, v] of map) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, map.length, true);
  let at = 4;
  for (const [k, v] of map) {
    dv.setUint32(at, k.length, true);
    dv.setUint32(at + 4, v.length, true);
    at += 8;
  }
  for (const [k, v] of map) {
    out.set(k, at); at += k.length + 1;
    out.set(v, at); at += v.length + 1;
  }
  return out;
}
const serializedRequest = serialize(requestHeaders);
const serializedResponse = serialize(responseHeaders);
const maps = { 0: requestHeaders, 2: responseHeaders };
const serialized = { 0: serializedRequest, 2: serializedResponse };
let metricId = 0;
let shared = new Map();

const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2, UNIMPLEMENTED = 12;
const str = (p, n) => Buffer.from(memory.buffer, p, n).toString('latin1');
const env = {
  proxy_log(level, p, n) { count('log'); if (level >= 4) console.error(str(p, n)); return OK; },
  proxy_get_buffer_bytes(type, start, len, rp, rs) {
    count('get_buffer_bytes');
    const b = type === 0 ? requestBody : type === 1 ? responseBody : type === 7 ? config : null;
    if (!b) return NOT_FOUND;
    return give(b.subarray(start >>> 0, Math.min(b.length, (start >>> 0) + (len >>> 0))), rp, rs);
  },
  proxy_set_buffer_bytes() { count('set_buffer_bytes'); return OK; },
  proxy_get_header_map_pairs(type, rp, rs) {
    count('get_header_map_pairs');
    return give(serialized[type] || serialize([]), rp, rs);
  },
  proxy_set_header_map_pairs() { count('set_header_map_pairs'); return OK; },
  proxy_get_header_map_value(type, kp, kn, rp, rs) {
    count('get_header_map_value');
    const k = str(kp, kn);
    const hit = (maps[type] || []).find(([name]) => Buffer.from(name).toString('latin1') === k);
    return hit ? give(hit[1], rp, rs) : NOT_FOUND;
  },
  proxy_add_header_map_value() { count('add_header_map_value'); return OK; },
  proxy_replace_header_map_value() { count('replace_header_map_value'); return OK; },
  proxy_remove_header_map_value() { count('remove_header_map_value'); return OK; },
  proxy_get_property() { count('get_property'); return NOT_FOUND; },
  proxy_set_property() { count('set_property'); return OK; },
  proxy_get_current_time_nanoseconds(rp) {
    count('get_current_time');
    view().setBigUint64(rp, process.hrtime.bigint() + 1_700_000_000_000_000_000n, true);
    return OK;
  },
  proxy_define_metric(type, p, n, rp) {
    count('define_metric'); view().setUint32(rp, ++metricId, true); return OK;
  },
  proxy_record_metric() { count('record_metric'); return OK; },
  proxy_increment_metric() { count('increment_metric'); return OK; },
  proxy_set_tick_period_milliseconds() { count('set_tick_period'); return OK; },
  proxy_get_shared_data(kp, kn, rp, rs, cas) {
    count('get_shared_data');
    const v = shared.get(str(kp, kn));
    if (!v) return NOT_FOUND;
    give(v.data, rp, rs);
    view().setUint32(cas, v.cas, true);
    return OK;
  },
  proxy_set_shared_data(kp, kn, vp, vn, cas) {
    count('set_shared_data');
    const k = str(kp, kn);
    const old = shared.get(k);
    if (cas && old && old.cas !== cas) return 7; // CasMismatch
    shared.set(k, { data: u8().slice(vp, vp + vn), cas: (old ? old.cas : 0) + 1 });
    return OK;
  },
  proxy_send_local_response() { count('send_local_response'); return OK; },
  proxy_continue_stream() { count('continue_stream'); return OK; },
  proxy_close_stream() { count('close_stream'); return OK; },
  proxy_get_status() { count('get_status'); return NOT_FOUND; },
  proxy_done() { return OK; },
  proxy_set_effective_context() { count('set_effective_context'); return OK; },
  proxy_http_call() { count('http_call'); return BAD_ARGUMENT; },
  proxy_call_foreign_function() { return UNIMPLEMENTED; },
};
for (const name of ['proxy_grpc_cancel', 'proxy_grpc_close', 'proxy_grpc_send', 'proxy_grpc_stream',
  'proxy_grpc_call', 'proxy_dequeue_shared_queue', 'proxy_enqueue_shared_queue',
  'proxy_resolve_shared_queue', 'proxy_register_shared_queue']) {
  env[name] = () => UNIMPLEMENTED;
}
const wasi = {
  random_get(p, n) { randomFillSync(u8(), p, n); return 0; },
  environ_sizes_get(a, b) { view().setUint32(a, 0, true); view().setUint32(b, 0, true); return 0; },
  environ_get() { return 0; },
  fd_write(fd, iovs, n, written) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const p = view().getUint32(iovs + 8 * i, true);
      const len = view().getUint32(iovs + 8 * i + 4, true);
      writeSync(2, u8().subarray(p, p + len));
      total += len;
    }
    view().setUint32(written, total, true);
    return 0;
  },
  proc_exit(code) { throw new Error(`proc_exit(${code})`); },
  clock_time_get(id, prec, rp) {
    view().setBigUint64(rp, process.hrtime.bigint(), true); return 0;
  },
};

const module = await WebAssembly.compile(readFileSync(wasmFile));
const instance = await WebAssembly.instantiate(module, {
  env, wasi_snapshot_preview1: new Proxy(wasi, {
    get: (t, k) => t[k] || (() => 52),
  }),
});
ex = instance.exports;
memory = ex.memory;
if (ex._initialize) ex._initialize();
if (ex._start) ex._start();
const ROOT = 1;
ex.proxy_on_context_create(ROOT, 0);
ex.proxy_on_vm_start(ROOT, 0);
if (!ex.proxy_on_configure(ROOT, config.length)) {
  console.error('the filter refused the configuration (see its log lines above)');
  process.exit(1);
}

let next = 100;
function request() {
  const id = next++;
  ex.proxy_on_context_create(id, ROOT);
  ex.proxy_on_request_headers(id, requestHeaders.length, GET ? 1 : 0);
  if (!GET) ex.proxy_on_request_body(id, requestBody.length, 1);
  ex.proxy_on_response_headers(id, responseHeaders.length, 0);
  ex.proxy_on_response_body(id, responseBody.length, 1);
  ex.proxy_on_log(id);
  ex.proxy_on_done(id);
  ex.proxy_on_delete(id);
}

for (let i = 0; i < 500; i++) request(); // warm: V8 tiers the hot functions up
calls.clear();
const batches = [];
for (let b = 0; b < 5; b++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) request();
  batches.push(Number(process.hrtime.bigint() - t0) / 1000 / REQUESTS);
}
batches.sort((a, b) => a - b);
const perRequest = [...calls].map(([k, v]) => `${k} ${(v / (5 * REQUESTS)).toFixed(1)}`);
console.log(`${GET ? 'GET' : 'POST 1 KiB'}\t${batches[2].toFixed(2)} µs per request (median of 5 batches of ${REQUESTS}; Node ${process.version})`);
console.log(`host calls per request: ${perRequest.join(', ')}`);

if (flag('--profile')) {
  const session = new Session();
  session.connect();
  const post = (m, p) => new Promise((ok, no) => session.post(m, p, (e, r) => (e ? no(e) : ok(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 50 });
  await post('Profiler.start');
  for (let i = 0; i < REQUESTS * 5; i++) request();
  const { profile } = await post('Profiler.stop');
  const self = new Map();
  const total = profile.samples.length;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (const s of profile.samples) hits.set(s, (hits.get(s) || 0) + 1);
  for (const [id, n] of hits) {
    const name = byId.get(id).callFrame.functionName || '(anonymous)';
    self.set(name, (self.get(name) || 0) + n);
  }
  // Rust's legacy symbol mangling (`_ZN` <length><name>... `17h<hash>E`) read back into a path.
  const demangle = (name) => {
    const m = /^_ZN(.*)17h[0-9a-f]{16}E$/.exec(name);
    if (!m) return name;
    const parts = [];
    for (let rest = m[1]; rest.length;) {
      const len = /^\d+/.exec(rest);
      if (!len) return name;
      const at = len[0].length;
      parts.push(rest.slice(at, at + Number(len[0])));
      rest = rest.slice(at + Number(len[0]));
    }
    return parts.join('::').replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>')
      .replace(/\$u20\$/g, ' ').replace(/\$C\$/g, ',').replace(/\$RF\$/g, '&')
      .replace(/\$BP\$/g, '*').replace(/\$u7b\$/g, '{').replace(/\$u7d\$/g, '}')
      .replace(/\.\./g, '::').replace(/^_</, '<');
  };
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)
    .map(([name, n]) => [demangle(name), n]);
  console.log(`\n| function (self time, ${total} samples) | share | µs per request |`);
  console.log('|---|---|---|');
  for (const [name, n] of rows) {
    const share = n / total;
    console.log(`| \`${name.length > 110 ? name.slice(0, 107) + '...' : name}\` | ${(100 * share).toFixed(1)} % | ${(share * batches[2]).toFixed(2)} |`);
  }
}
