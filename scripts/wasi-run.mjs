// Runs a wasm32-wasip1 test binary under Node's WASI: the filter's unit tests, compiled to
// Wasm and executed by V8, the engine Envoy runs the filter in. scripts/test.sh sets it as
// cargo's runner:  CARGO_TARGET_WASM32_WASIP1_RUNNER="node scripts/wasi-run.mjs"
//
// The test binary links the proxy-wasm glue, which imports host functions from "env"; unit
// tests never call them, so they are stubs that throw if they ever are.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import { argv, env, exit } from 'node:process';
const [file, ...args] = argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env, preopens: { '/': '/' }, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const hostStub = (name) => () => { throw new Error(`proxy-wasm host function ${name} called outside a proxy`); };
const imports = wasi.getImportObject();
for (const imp of WebAssembly.Module.imports(module)) {
  if (imp.module !== 'wasi_snapshot_preview1' && imp.kind === 'function') {
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] = hostStub(imp.name);
  }
}
const instance = await WebAssembly.instantiate(module, imports);
// The filter exports `_initialize` (proxy-wasm reactor entry); a test binary is a WASI command.
const { memory, _start } = instance.exports;
exit(wasi.start({ exports: { memory, _start } }));
