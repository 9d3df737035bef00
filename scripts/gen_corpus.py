#!/usr/bin/env python3
"""Generates the labelled detection corpus: core/corpus/detection.jsonl.

Each line is {"text": ..., "expect": [types]}. Positives are valid values of each type (real
checksums, issuer ranges, formats people write), placed in JSON and prose contexts; hard
negatives are the look-alikes that trip loose detectors: Luhn-valid timestamps and order
numbers, ISBNs, UUIDs, hashes, version strings, unlabelled phone-like numbers, dates, prices,
base64 blobs, file names with an @.

Deterministic (fixed seed): run it again and the file does not change.
    python3 scripts/gen_corpus.py
"""
import base64
import hashlib
import json
import os
import random

import corpus_numbers
import corpus_idsl
import corpus_secrets
import corpus_idsd
import corpus_review

R = random.Random(20261122)
PER_TYPE = 40


def luhn_digit(body):
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(s):
    return luhn_digit(s[:-1]) == s[-1]


def digits(n):
    return "".join(R.choice("0123456789") for _ in range(n))


# --- cards -------------------------------------------------------------------------------
ISSUERS = [  # (prefixes, lengths)
    (["4"], [16, 16, 16, 13, 19]),
    (["51", "52", "53", "54", "55"], [16]),
    ([str(p) for p in range(2221, 2721, 37)], [16]),
    (["34", "37"], [15]),
    (["6011", "644", "65"], [16, 19]),
    ([str(p) for p in range(3528, 3590, 7)], [16]),
    (["36", "300", "305", "38"], [14, 16]),
    (["62"], [16, 17, 19]),
    (["6759", "6761", "56", "58"], [16, 18]),
]


def card_number():
    prefixes, lengths = R.choice(ISSUERS)
    p = R.choice(prefixes)
    n = R.choice(lengths)
    body = p + digits(n - len(p) - 1)
    return body + luhn_digit(body)


def format_card(n):
    style = R.choice(["plain", "4s", "4s-dash", "endash", "amex"])
    if style == "plain":
        return n
    if style == "amex" and len(n) == 15:
        return f"{n[:4]} {n[4:10]} {n[10:]}"
    groups = [n[i:i + 4] for i in range(0, len(n), 4)]
    if len(groups[-1]) < 3:  # keep the grouped shape: a short tail joins the previous group
        tail = groups.pop()
        groups[-1] += tail
    sep = {"4s": " ", "4s-dash": "-", "endash": "\u2013"}.get(style, " ")
    value = sep.join(groups)
    assert luhn_ok("".join(c for c in value if c.isdigit())), value
    return value


# --- SSN ---------------------------------------------------------------------------------
def ssn():
    area = R.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}", f"{R.randint(1, 99):02d}", f"{R.randint(1, 9999):04d}"


# --- IBAN --------------------------------------------------------------------------------
IBAN_FORMATS = {  # country: (length, bban pattern: n digits / a upper letters)
    "DE": (22, "n18"), "GB": (22, "a4n14"), "FR": (27, "n10c11n2"), "NL": (18, "a4n10"),
    "CH": (21, "n5c12"), "ES": (24, "n20"), "IT": (27, "a1n10c12"), "NO": (15, "n11"),
    "BE": (16, "n12"), "AT": (20, "n16"), "PL": (28, "n24"), "SE": (24, "n20"),
}


def bban(pattern):
    out, i = "", 0
    while i < len(pattern):
        kind = pattern[i]
        j = i + 1
        while j < len(pattern) and pattern[j].isdigit():
            j += 1
        n = int(pattern[i + 1:j])
        alphabet = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                    "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[kind]
        out += "".join(R.choice(alphabet) for _ in range(n))
        i = j
    return out


def iban_check(cc, b):
    num = "".join(str(int(ch, 36)) for ch in b + cc + "00")
    return f"{98 - int(num) % 97:02d}"


def iban():
    cc = R.choice(sorted(IBAN_FORMATS))
    length, pattern = IBAN_FORMATS[cc]
    b = bban(pattern)
    value = cc + iban_check(cc, b) + b
    assert len(value) == length, (cc, value)
    if R.random() < 0.5:
        value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value


# --- routing -----------------------------------------------------------------------------
def routing():
    prefix = R.choice([f"{p:02d}" for p in list(range(0, 13)) + list(range(21, 33)) + list(range(61, 73)) + [80]])
    d = prefix + digits(6)
    w = [3, 7, 1, 3, 7, 1, 3, 7]
    s = sum(int(c) * k for c, k in zip(d, w))
    return d + str((10 - s % 10) % 10)


# --- crypto wallets ----------------------------------------------------------------------
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58check(version):
    payload = bytes([version]) + bytes(R.getrandbits(8) for _ in range(20))
    chk = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    raw = payload + chk
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ v
        for i in range(5):
            chk ^= gen[i] if (b >> i) & 1 else 0
    return chk


def convertbits(data, frm, to):
    acc, bits, out = 0, 0, []
    for v in data:
        acc = (acc << frm) | v
        bits += frm
        while bits >= to:
            bits -= to
            out.append((acc >> bits) & ((1 << to) - 1))
    if bits:
        out.append((acc << (to - bits)) & ((1 << to) - 1))
    return out


def segwit(hrp):
    ver = R.choice([0, 0, 1])
    prog = bytes(R.getrandbits(8) for _ in range(20 if ver == 0 and R.random() < 0.5 else 32))
    data = [ver] + convertbits(prog, 8, 5)
    const = 1 if ver == 0 else 0x2BC830A3
    hx = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    pm = polymod(hx + data + [0] * 6) ^ const
    data += [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH[d] for d in data)


def wallet():
    kind = R.random()
    if kind < 0.35:
        return b58check(0)
    if kind < 0.55:
        return b58check(5)
    return segwit(R.choice(["bc", "bc", "tb"]))


# --- secrets -----------------------------------------------------------------------------
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt():
    header = {"alg": R.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"}
    if R.random() < 0.3:
        header["kid"] = digits(6)
    payload = {"sub": digits(8), "iat": 1700000000 + R.randint(0, 10**7), "name": R.choice(["ann", "bo", "cy"])}
    sig = bytes(R.getrandbits(8) for _ in range(32))
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), b64url(sig)])


def pem(json_escaped):
    label = R.choice(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    body = base64.b64encode(bytes(R.getrandbits(8) for _ in range(90))).decode()
    lines = [f"-----BEGIN {label}-----", body[:64], body[64:], f"-----END {label}-----"]
    return ("\\n" if json_escaped else "\n").join(lines)


# --- phones, e-mails, IPs ----------------------------------------------------------------
def nanp():
    npa = f"{R.randint(2, 9)}{R.randint(0, 8)}{R.randint(0, 9)}"
    if npa[1:] == "11":
        npa = npa[0] + "23"
    nxx = f"{R.randint(2, 9)}{R.randint(0, 9)}{R.randint(0, 9)}"
    if nxx[1:] == "11":
        nxx = nxx[0] + "45"
    return npa, nxx, digits(4)


def phone():
    style = R.random()
    if style < 0.3:
        a, b, c = nanp()
        return R.choice([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"1-{a}-{b}-{c}", f"+1 {a} {b} {c}"]), None
    if style < 0.7:
        cc, rest = R.choice([("44", "20 7946 " + digits(4)), ("41", "44 668 " + digits(2) + " " + digits(2)),
                             ("49", "30 " + digits(8)), ("33", "1 " + " ".join(digits(2) for _ in range(4))),
                             ("81", "3-" + digits(4) + "-" + digits(4)), ("61", "2 " + digits(4) + " " + digits(4))])
        return f"+{cc} {rest}", None
    national = R.choice(["020 7946 " + digits(4), "0" + digits(9), "06 " + digits(8), "0" + digits(2) + " " + digits(3) + " " + digits(4)])
    return national, R.choice(["phone", "Tel.", "mobile", "cell", "fax"])


def email():
    local = R.choice(["jane.doe", "j.smith+tag", "ops_team", "a", "first.last", "x-ray99", "o_brien"])
    domain = R.choice(["example.com", "mail.example.co.uk", "sub.example.org", "example.io",
                       "xn--bcher-kva.example", "corp.example.travel"])
    return f"{local}{R.randint(0, 999)}@{domain}"


def ipv4():
    return ".".join(str(R.choice([R.randint(1, 255), R.randint(0, 255), 10, 192])) for _ in range(4))


def ipv6():
    groups = [f"{R.getrandbits(16):x}" for _ in range(8)]
    style = R.random()
    if style < 0.3:
        return ":".join(groups)
    if style < 0.6:
        return ":".join(groups[:3]) + "::" + ":".join(groups[6:])
    if style < 0.8:
        return "fe80::" + groups[0] + ":" + groups[1]
    return "::ffff:" + ipv4()


# --- contexts ----------------------------------------------------------------------------
def place(value, key, cue=None):
    """A value in a JSON or a prose context."""
    label = cue or key
    if R.random() < 0.5:
        return json.dumps({"id": R.randint(1, 10**6), label: value, "status": "ok"}, ensure_ascii=False)
    return R.choice([
        f"Hi, my {label} is {value}, thanks.",
        f"{label}: {value}",
        f"Please update the record ({label} = {value}) today.",
        f"{value} is the {label} on file",
    ])


def positives():
    out = []

    def add(kind, make, key, n=PER_TYPE):
        for _ in range(n):
            v = make()
            cue = None
            if isinstance(v, tuple):
                v, cue = v
            out.append({"text": place(v, key, cue), "expect": [kind]})

    add("credit_card", lambda: format_card(card_number()), "card")
    # Cards next to words that label other numbers.
    for _ in range(10):
        out.append({"text": f"order {R.randint(100, 999)} paid with card {format_card(card_number())}", "expect": ["credit_card"]})
    add("ssn", lambda: R.choice(["-", " ", ".", "\u2013"]).join(ssn()), "tax id")
    add("ssn", lambda: ("".join(ssn()), R.choice(["ssn", "SSN", "social security number"])), "x", 15)
    add("email", email, "contact")
    add("phone", phone, "contact")
    add("iban", iban, "account")
    add("ip_address", ipv4, "client")
    add("ip_address", ipv6, "peer", 25)
    add("us_bank_routing", lambda: (routing(), R.choice(["routing", "routing_number", "ABA"])), "x")
    add("crypto_wallet", wallet, "pay to")
    add("aws_access_key", lambda: R.choice(["AKIA", "ASIA"]) + "".join(R.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)), "key id")
    add("github_token", lambda: (lambda p, r: corpus_secrets.with_checksum(p, r[:30]))(R.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]), "".join(R.choice(ALNUM) for _ in range(36)))
        if R.random() < 0.7 else corpus_secrets.fine_grained("".join(R.choice(ALNUM + "_") for _ in range(82))), "token")
    add("slack_token", lambda: f"xox{R.choice('abpr')}-{digits(12)}-{digits(13)}-" + "".join(R.choice(ALNUM) for _ in range(24)), "webhook token")
    add("jwt", jwt, "authorization")
    for _ in range(PER_TYPE):
        as_json = R.random() < 0.5
        key = pem(as_json)
        text = '{"name": "deploy", "key": "' + key + '"}' if as_json else f"here is the key:\n{key}\nbye"
        out.append({"text": text, "expect": ["private_key"]})
    # Values right after timestamps, decimals and counts: the pass skips those in one step, and
    # must not skip what follows them.
    busy = [("credit_card", lambda: format_card(card_number())), ("ssn", lambda: "-".join(ssn())),
            ("phone", lambda: " ".join(x for x in reversed(phone()) if x)),  # a national number keeps its cue
            ("ip_address", ipv4), ("email", email)]
    for _ in range(4):
        for kind, make in busy:
            v = make()
            ts = f"2026-0{R.randint(1, 9)}-{R.randint(10, 28)}T{R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)}" + R.choice(["Z", ".123Z", "+01:00", ""])
            out.append({"text": R.choice([
                json.dumps({"at": ts, "score": float(f"0.{digits(3)}"), "tokens": R.randint(1, 999), "text": f"reach me at {v}"}),
                f"{ts} {v}",
                f"seen {ts}, rated {R.randint(1, 9)}.{digits(2)} by {R.randint(1, 99)} users: {v}",
            ]), "expect": [kind]})
    # Values hidden the ways issue 10 lists: look-alike characters, separators, JSON number
    # forms, percent-encoding, base64 and hex (the scanner folds and decodes them).
    def hide(v):
        style = R.choice(["nbsp", "zwsp", "fullwidth", "arabic", "sep", "escape", "pct", "b64", "hex"])
        if style == "nbsp":
            return v.replace(" ", R.choice(["\u00a0", "\u202f", "\u2009", "\u3000"])), False
        if style == "zwsp":
            return v.replace(" ", "\u200b").replace("-", "\u200b-"), False
        if style == "fullwidth":
            return "".join(chr(ord(c) - 0x30 + 0xFF10) if c.isdigit() else ("\uff20" if c == "@" else c) for c in v), False
        if style == "arabic":
            return "".join(chr(ord(c) - 0x30 + 0x0660) if c.isdigit() else c for c in v), False
        if style == "sep":
            return v.replace(" ", R.choice([".", "/", "\t", "\n", "  "])), False
        if style == "escape":
            return "".join(f"\\u{ord(c):04x}" if R.random() < 0.5 else c for c in v), True
        if style == "pct":
            return "".join(f"%{ord(c):02X}" if not c.isalnum() or R.random() < 0.3 else c for c in v), False
        if style == "b64":
            return base64.b64encode(f"please use {v} today".encode()).decode(), False
        return f"please use {v} today".encode().hex(), False

    for kind, make in [("credit_card", lambda: format_card(card_number())),
                       ("ssn", lambda: R.choice([" ", "-"]).join(ssn())), ("email", email)]:
        for _ in range(8):
            v = make()
            if kind == "ssn" and " " in v and R.random() < 0.5:
                v = v.replace(" ", "-")
            hidden, escaped = hide(v)
            if escaped:
                text = '{"id": %d, "note": "%s"}' % (R.randint(1, 999), hidden.replace("\\\\", "\\"))
            else:
                text = R.choice([json.dumps({"id": R.randint(1, 999), "note": hidden}, ensure_ascii=False),
                                 f"for {kind.replace('_', ' ')}: {hidden} thanks"])
            out.append({"text": text, "expect": [kind]})
    for _ in range(6):
        n = card_number()
        out.append({"text": '{"amount": %s, "currency": "EUR"}' % R.choice([n + ".0", n[0] + "." + n[1:] + "e" + str(len(n) - 1)]),
                    "expect": ["credit_card"]})
    out += corpus_secrets.positives(R, place, digits)
    out += corpus_idsd.positives(R, place, digits)
    return out


def negatives():
    out = []

    def add(make, n):
        for _ in range(n):
            out.append({"text": make(), "expect": []})

    def luhn_valid(prefix_digits, n):
        while True:
            body = R.choice(prefix_digits) + digits(n - 2)
            v = body + luhn_digit(body)
            if luhn_ok(v):
                return v

    add(lambda: json.dumps({"created_at": luhn_valid("1", 13), "updated": 1700000000 + R.randint(0, 10**8)}), 30)
    add(lambda: f"Order #{luhn_valid('1789', 16)} shipped on {R.randint(1, 28)}.03.2026", 25)
    # Order and tracking numbers with a card issuer's prefix, labelled as what they are.
    add(lambda: R.choice([f"Order #{luhn_valid('45', 16)} confirmed", f"tracking: {luhn_valid('5', 16)}",
                          json.dumps({"invoice": luhn_valid("4", 16), "total": "12.50"}),
                          f"ref {luhn_valid('37', 15)} (shipment)"]), 25)
    add(lambda: json.dumps({"order_id": int(luhn_valid('1789', R.choice([12, 14, 16, 18]))), "qty": R.randint(1, 9)}), 25)
    add(lambda: json.dumps({"id": int("1" + digits(18)), "parent": int("1" + digits(18))}), 15)

    def isbn():
        b = R.choice(["978", "979"]) + digits(9)
        s = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(b))
        v = b + str((10 - s % 10) % 10)
        return f"ISBN {v[:3]}-{v[3]}-{v[4:6]}-{v[6:12]}-{v[12]}" if R.random() < 0.5 else f"isbn: {v}"
    add(isbn, 20)
    add(lambda: json.dumps({"request_id": f"{R.getrandbits(32):08x}-{R.getrandbits(16):04x}-4{R.getrandbits(12):03x}-a{R.getrandbits(12):03x}-{R.getrandbits(48):012x}"}), 20)
    add(lambda: f"sha256 {hashlib.sha256(bytes(R.getrandbits(8) for _ in range(8))).hexdigest()}", 15)
    add(lambda: R.choice([f"v{R.randint(1, 9)}.{R.randint(0, 30)}.{R.randint(0, 99)}",
                          f"version {R.randint(1, 9)}.{R.randint(0, 9)}.{R.randint(0, 9)}.{R.randint(0, 99)}",
                          f"build {R.randint(10, 30)}.{R.randint(0, 9)}.{R.randint(1000, 30000)}.{R.randint(0, 9999)}",
                          f"release {R.randint(1, 5)}.{R.randint(0, 20)}.{R.randint(0, 20)}.{R.randint(0, 20)}"]), 25)
    add(lambda: R.choice([f"invoice {digits(10)} due", f"ticket {R.randint(2, 9)}{digits(9)}", f"ref: {R.randint(2, 9)}{digits(10)}"]), 25)
    add(lambda: R.choice(["2026-01-23", "23.01.2026", "01/23/2026", "2026-01-23T12:34:56Z", "12:34:56", "2026 01 23 12 00"]) + f" and {R.randint(1, 9)} items", 20)
    add(lambda: R.choice([f"${R.randint(1, 9)},{digits(3)}.{digits(2)}", f"{R.randint(1, 999)}.{digits(2)} EUR", f"1 234 567,{digits(2)} CHF", f"{R.randint(1, 99)}.{digits(7)}"]), 20)
    add(lambda: json.dumps({"blob": base64.b64encode(bytes(R.getrandbits(8) for _ in range(R.randint(30, 150)))).decode()}), 30)
    add(lambda: R.choice(["icon@2x.png", "logo@3x.jpg", "@mention the team", "user@localhost", "a@b", "me@ home", "retina@2x.webp"]), 15)
    add(lambda: R.choice(["00:1A:2B:3C:4D:5E", "1.2.3", "256.1.1.1", "coords 47.3769, 8.5417", "pi is 3.14159265358979"]), 15)
    add(lambda: R.choice(["AKIA", "AKIAIOSFODNN7EXAMPL", "ghp_short", "xoxb-123", "-----BEGIN PUBLIC KEY-----", "eyJmb28iOiJiYXIifQ.eyJ4IjoxfQ.c2ln"]), 15)
    add(lambda: R.choice([f"DE{digits(2)} {digits(4)} {digits(4)}", f"AB{digits(2)}CD{digits(2)}EF{digits(2)}", f"zip {digits(5)}-{digits(4)}", f"account {digits(9)}"]), 20)
    # Hard negatives of the decoded views: text that folds, decodes or parses into something,
    # but holds no value.
    prose = ["the meeting moved to noon", "thanks for the update, see you soon", "hello world",
             "order confirmed, arriving on tuesday", "please call back later today"]
    add(lambda: json.dumps({"data": base64.b64encode(R.choice(prose).encode()).decode()}), 10)
    add(lambda: json.dumps({"hex": R.choice(prose).encode().hex()}), 8)
    add(lambda: R.choice([f"https://example.com/search?q={R.choice(prose).replace(' ', '%20')}",
                          json.dumps({"url": "https://example.com/a%2Fb?x=" + str(R.randint(1, 99)) + "%2520y"})]), 10)
    add(lambda: json.dumps({"views": float(R.randint(1000000, 99999999)), "ratio": R.choice([1.5e10, 6.02e23, 2.5e-3, 1e6])}), 10)
    add(lambda: R.choice([f"prix\u00a0: {R.randint(1, 999)}\u00a0{R.randint(100, 999)},{digits(2)}\u00a0€",
                          f"le {R.randint(1, 28)}\u00a0mars {R.randint(1990, 2030)}",
                          "".join(chr(ord(c) - 0x30 + 0x0660) if c.isdigit() else c for c in f"{R.randint(2000, 2030)}/0{R.randint(1, 9)}/{R.randint(10, 28)}"),
                          "".join(chr(ord(c) - 0x30 + 0xFF10) if c.isdigit() else c for c in f"{R.randint(2000, 2030)}年{R.randint(1, 12)}月{R.randint(1, 28)}日"),
                          f"v{R.randint(1, 9)}.{R.randint(0, 9)}.{R.randint(0, 9)}\u200b-beta"]), 12)
    add(lambda: R.choice(["years:\n" + "\n".join(str(R.randint(1990, 2030)) for _ in range(4)),
                          "\t".join(str(R.randint(1990, 2030)) for _ in range(4)),
                          f"{R.randint(1990, 2030)}/{R.randint(1990, 2030)}/{R.randint(1990, 2030)}/{R.randint(1990, 2030)}",
                          f"1.{R.randint(0, 9)}.{R.randint(0, 99)}.{R.randint(0, 999)}"]), 12)
    # Code: scope operators are not IPv6 addresses.
    add(lambda: R.choice(["use std::io;", "Foo::bar()", "a::b::c", f"let v = Vec2::new({R.randint(1, 9)}, 2);",
                          "f64::EPSILON", "std::f64::consts::PI", "dead::beef"]), 10)
    # The machine's own addresses are not a person's or another host's.
    add(lambda: R.choice(['const ipv6Loopback = "::1";', "listen on [::1]:8080", f"upstream http://127.0.0.1:{R.randint(1024, 65535)}/v1",
                          "bind 0.0.0.0:443", json.dumps({"host": f"127.0.0.{R.randint(1, 254)}"})]), 8)
    # Git and SSH remotes are not e-mail addresses.
    add(lambda: R.choice(["git clone git@github.com:acme/widgets.git", "ssh://git@github.com/acme/widgets.git",
                          "deploy@build.example.com:~/releases", "url = git@gitlab.example.org:group/repo.git"]), 8)
    out += corpus_secrets.negatives(R, digits)
    out += corpus_idsd.negatives(R, digits)
    return out


def main():
    rows = positives() + negatives()
    rows += corpus_numbers.positives(R, place, digits)
    rows += corpus_numbers.negatives(R, digits)
    rows += corpus_idsl.positives(R, place, digits)
    rows += corpus_idsl.negatives(R, digits)
    rows += corpus_review.positives(R, place, digits)
    rows += corpus_review.negatives(R, digits)
    R.shuffle(rows)
    path = os.path.join(os.path.dirname(__file__), "..", "core", "corpus", "detection.jsonl")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    kinds = {}
    for r in rows:
        for k in r["expect"] or ["(negative)"]:
            kinds[k] = kinds.get(k, 0) + 1
    print(f"{len(rows)} examples: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
