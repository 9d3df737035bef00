// Differential corpus for RFC 8785 §3.2.2.3: random IEEE 754 doubles (bit patterns from a
// fixed-seed xorshift so the file is reproducible) and what V8's Number.prototype.toString
// (through JSON.stringify) writes for them.
let s = 0x9E3779B97F4A7C15n;
const M = (1n << 64n) - 1n;
function next() { s ^= (s << 13n) & M; s ^= s >> 7n; s ^= (s << 17n) & M; return s; }
const buf = new DataView(new ArrayBuffer(8));
const out = [];
let n = 0;
while (out.length < 2000 && n < 100000) {
  n++;
  let bits = next();
  // Half of them: exponents near the plain/exponential boundaries (1e-7 .. 1e21) and integers.
  if (out.length % 2 === 0) {
    const exp = BigInt(1023 - 30 + Number(next() % 110n)); // 2^-30 .. 2^79
    bits = (bits & ((1n << 52n) - 1n)) | (exp << 52n) | (bits & (1n << 63n));
  }
  buf.setBigUint64(0, bits);
  const x = buf.getFloat64(0);
  if (!Number.isFinite(x)) continue;
  out.push(bits.toString(16).padStart(16, '0') + ',' + JSON.stringify(x));
}
// Integers around 2^53 .. 2^64 as u64 text, to check integer rounding.
for (let i = 0; i < 200; i++) {
  const v = next() >> BigInt(Number(next() % 12n));
  out.push('u' + v.toString() + ',' + JSON.stringify(Number(v)));
}
console.log(out.join('\n'));
