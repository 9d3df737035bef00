"""Corpus rows for issue 11, item 3: phones beyond the US (E.164 for many country codes, national
prints, cues in the countries' languages), UATP cards, dashed ABA routing numbers, IBANs grouped
with dashes; and the hard negatives that look like them (ids, timestamps, epoch milliseconds,
versions, order and tracking numbers, UUIDs, dates, IPv4, code, log lines, other countries' ids).

Used by gen_corpus.py: positives(R, place, digits) and negatives(R, digits) return rows
{"text": ..., "expect": [...]}, drawn from the shared random object R.
"""
import json

# E.164: (country code, national number lengths in groups), lengths from libphonenumber's
# possibleLengths for that country.
E164 = [
    ("81", [2, 4, 4]), ("86", [3, 4, 4]), ("91", [5, 5]), ("55", [2, 5, 4]), ("49", [2, 8]),
    ("49", [3, 8]), ("33", [1, 2, 2, 2, 2]), ("44", [4, 6]), ("44", [2, 4, 4]), ("52", [2, 4, 4]),
    ("62", [3, 4, 4]), ("7", [3, 3, 2, 2]), ("82", [2, 4, 4]), ("972", [2, 3, 4]), ("972", [1, 3, 4]),
    ("34", [3, 3, 3]), ("39", [3, 3, 4]), ("31", [1, 8]), ("48", [3, 3, 3]), ("90", [3, 3, 2, 2]),
    ("20", [2, 4, 4]), ("234", [3, 3, 4]), ("27", [2, 3, 4]), ("254", [3, 6]), ("54", [2, 4, 4]),
    ("57", [3, 3, 4]), ("63", [3, 3, 4]), ("84", [2, 3, 4]), ("66", [2, 3, 4]), ("966", [2, 3, 4]),
    ("971", [2, 3, 4]), ("65", [4, 4]), ("852", [4, 4]), ("64", [2, 3, 4]), ("353", [2, 3, 4]),
    ("351", [3, 3, 3]), ("30", [3, 3, 4]), ("41", [2, 3, 2, 2]), ("43", [3, 7]), ("32", [3, 2, 2, 2]),
    ("45", [2, 2, 2, 2]), ("47", [3, 2, 3]), ("380", [2, 3, 2, 2]), ("92", [3, 7]), ("880", [4, 6]),
    ("212", [3, 6]), ("60", [2, 3, 4]), ("56", [1, 4, 4]), ("51", [3, 3, 3]), ("213", [3, 2, 2, 2]),
]
TRUNK_ZERO = {"44", "49", "41", "43", "31", "32", "39"}


def _groups(digits, lens):
    out, i = [], 0
    for n in lens:
        out.append(digits[i:i + n])
        i += n
    return out


def e164(R, digits):
    cc, lens = R.choice(E164)
    nsn = str(R.randint(1, 9)) + digits(sum(lens) - 1)
    groups = _groups(nsn, lens)
    style = R.random()
    if style < 0.2:
        return f"+{cc}{nsn}"
    sep = R.choice([" ", " ", "-", "."])
    rest = sep.join(groups)
    if cc in TRUNK_ZERO and R.random() < 0.4:
        rest = "(0)" + rest
    if style < 0.35 and len(groups) > 2:
        rest = f"({groups[0]}) " + sep.join(groups[1:])
    return f"+{cc} {rest}" if R.random() < 0.8 else f"+{cc}-{rest}"


def national(R, digits):
    """A national number in its country's distinctive print: found without a cue."""
    d = digits
    return R.choice([
        lambda: f"0{R.choice('5789')}0-{d(4)}-{d(4)}",  # Japan, mobile
        lambda: f"0{R.randint(3, 9)}-{d(4)}-{d(4)}",  # Japan, landline
        lambda: f"010-{d(4)}-{d(4)}",  # Korea, mobile
        lambda: f"02-{d(3)}-{d(4)}",  # Korea, Seoul
        lambda: f"0{R.choice('23489')}-{R.randint(2, 9)}{d(6)}",  # Israel, landline
        lambda: f"05{R.randint(0, 8)}-{R.randint(2, 9)}{d(6)}",  # Israel, mobile
        lambda: f"1{R.randint(3, 9)}{d(1)}{R.choice([' ', '-'])}{d(4)}{'{}'}{d(4)}",  # China
        lambda: f"08{R.randint(1, 9)}{d(1)}-{d(4)}-{d(4)}",  # Indonesia, mobile
        lambda: f"8 ({R.randint(3, 9)}{d(2)}) {d(3)}-{d(2)}-{d(2)}",  # Russia
        lambda: f"({R.randint(3, 9)}{d(2)}) {d(3)}-{d(2)}-{d(2)}",  # Russia
        lambda: f"({R.randint(1, 9)}{R.randint(1, 9)}) 9{d(4)}-{d(4)}",  # Brazil, mobile
        lambda: f"({R.randint(1, 9)}{R.randint(1, 9)}) {R.randint(2, 5)}{d(3)}-{d(4)}",  # Brazil, MX
        lambda: f"(0{R.randint(2, 9)}{d(1)}) {d(4)} {d(4)}",  # Indonesia, landline
    ])()


def _china_fix(v):
    # The China print joins its groups with one separator throughout.
    return v.replace("{}", v[3]) if "{}" in v else v


SCRIPT_CUES = {
    "cn": ["\u624b\u673a", "\u7535\u8bdd", "\u8054\u7cfb\u7535\u8bdd"],
    "jp": ["\u96fb\u8a71", "\u643a\u5e2f", "\u96fb\u8a71\u756a\u53f7"],
    "in": ["\u092b\u093c\u094b\u0928", "\u092e\u094b\u092c\u093e\u0907\u0932", "\u091f\u0947\u0932\u0940\u092b\u093c\u094b\u0928"],
    "ru": ["\u0442\u0435\u043b\u0435\u0444\u043e\u043d", "\u0442\u0435\u043b."],
    "kr": ["\uc804\ud654", "\ud734\ub300\ud3f0"],
    "il": ["\u05d8\u05dc\u05e4\u05d5\u05df", "\u05e0\u05d9\u05d9\u05d3"],
}


def cued_national(R, digits):
    """A national number a cue makes a phone number: (value, cue)."""
    d = digits
    country = R.choice(["cn", "jp", "in", "de", "fr", "uk", "mx", "br", "ru", "kr", "il", "id"])
    if country == "cn":
        return "1" + str(R.randint(3, 9)) + d(9), R.choice(SCRIPT_CUES["cn"] + ["phone", "mobile"])
    if country == "jp":
        return R.choice([f"0{R.choice('789')}0{d(8)}", f"0{R.choice('789')}0 {d(4)} {d(4)}"]), R.choice(SCRIPT_CUES["jp"] + ["TEL"])
    if country == "in":
        v = str(R.randint(6, 9)) + d(9)
        return R.choice([v, v[:5] + " " + v[5:]]), R.choice(SCRIPT_CUES["in"] + ["mobile", "phone"])
    if country == "de":
        return R.choice([f"0{R.randint(2, 9)}{d(1)} {d(8)}", f"015{R.randint(1, 9)} {d(8)}", f"0{R.randint(2, 9)}{d(1)}/{d(7)}"]), R.choice(["Telefon", "Handy", "Tel.", "Mobilnummer"])
    if country == "fr":
        return R.choice([" ", "."]).join([f"0{R.randint(1, 9)}"] + [d(2) for _ in range(4)]), R.choice(["t\u00e9l\u00e9phone", "portable", "t\u00e9l.", "mobile"])
    if country == "uk":
        return R.choice([f"07{d(3)} {d(6)}", f"020 {R.randint(3, 8)}{d(3)} {d(4)}", f"01{d(3)} {d(6)}"]), R.choice(["tel", "mobile", "phone number", "call"])
    if country == "mx":
        return R.choice([f"{R.randint(2, 9)}{d(1)} {d(4)} {d(4)}", f"{R.randint(2, 9)}{d(9)}"]), R.choice(["tel\u00e9fono", "celular", "m\u00f3vil"])
    if country == "br":
        return R.choice([f"{R.randint(1, 9)}{R.randint(1, 9)} 9{d(4)} {d(4)}", f"{R.randint(1, 9)}{R.randint(1, 9)}9{d(8)}"]), R.choice(["telefone", "celular", "whatsapp"])
    if country == "ru":
        return R.choice([f"8 9{d(2)} {d(3)} {d(2)} {d(2)}", f"89{d(9)}"]), R.choice(SCRIPT_CUES["ru"])
    if country == "kr":
        return R.choice([f"010{d(8)}", f"010 {d(4)} {d(4)}"]), R.choice(SCRIPT_CUES["kr"])
    if country == "il":
        return R.choice([f"05{R.randint(0, 8)}{d(7)}", f"0{R.choice('23489')}{d(7)}"]), R.choice(SCRIPT_CUES["il"])
    return R.choice([f"08{R.randint(1, 9)}{d(1)} {d(4)} {d(4)}", f"08{R.randint(1, 9)}{d(8)}"]), R.choice(["telepon", "ponsel", "HP/phone"])


# --- cards, routing, IBAN -----------------------------------------------------------------
def luhn_digit(body):
    total = 0
    for i, c in enumerate(reversed(body)):
        x = int(c)
        if i % 2 == 0:
            x *= 2
            if x > 9:
                x -= 9
        total += x
    return str((10 - total % 10) % 10)


def uatp(digits):
    body = "1" + digits(13)
    return body + luhn_digit(body)


def routing(R, digits):
    prefix = R.choice([f"{p:02d}" for p in list(range(0, 13)) + list(range(21, 33)) + list(range(61, 73)) + [80]])
    d = prefix + digits(6)
    s = sum(int(c) * k for c, k in zip(d, [3, 7, 1, 3, 7, 1, 3, 7]))
    return d + str((10 - s % 10) % 10)


IBAN_FORMATS = {"DE": "n18", "GB": "a4n14", "FR": "n10c11n2", "NL": "a4n10", "ES": "n20", "IT": "a1n10c12",
                "BE": "n12", "AT": "n16", "PL": "n24", "CH": "n5c12", "SE": "n20", "PT": "n21"}


def iban(R, cc=None):
    cc = cc or R.choice(sorted(IBAN_FORMATS))
    pattern, out, i = IBAN_FORMATS[cc], "", 0
    while i < len(pattern):
        kind, j = pattern[i], i + 1
        while j < len(pattern) and pattern[j].isdigit():
            j += 1
        alphabet = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[kind]
        out += "".join(R.choice(alphabet) for _ in range(int(pattern[i + 1:j])))
        i = j
    num = "".join(str(int(ch, 36)) for ch in out + cc + "00")
    return cc + f"{98 - int(num) % 97:02d}" + out


def dashed(v):
    return "-".join(v[i:i + 4] for i in range(0, len(v), 4))


# --- rows ---------------------------------------------------------------------------------
def positives(R, place, digits):
    out = []

    def add(kind, value, key, cue=None):
        out.append({"text": place(value, key, cue), "expect": [kind]})

    for _ in range(50):
        add("phone", e164(R, digits), R.choice(["contact", "reach", "number"]))
    for _ in range(45):
        add("phone", _china_fix(national(R, digits)), R.choice(["contact", "reach", "number"]))
    for _ in range(60):
        v, cue = cued_national(R, digits)
        add("phone", v, "x", cue)
    # UATP: printed 4-5-6 needs no cue; compact, a UATP or card cue.
    for _ in range(25):
        n = uatp(digits)
        sep = R.choice([" ", " ", "-"])
        add("credit_card", sep.join([n[:4], n[4:9], n[9:]]), R.choice(["card", "paid with", "billing"]))
    for _ in range(20):
        add("credit_card", uatp(digits), "x", R.choice(["UATP", "uatp_card", "airline card", "card_number", "AirPlus card"]))
    for _ in range(40):
        v = routing(R, digits)
        add("us_bank_routing", f"{v[:4]}-{v[4:8]}-{v[8]}", "x", R.choice(["routing", "routing_number", "ABA", "RTN"]))
    for _ in range(40):
        add("iban", dashed(iban(R)), R.choice(["account", "iban", "pay to"]))
    out += attack_positives(R, digits)
    return out


# --- issue 11 attack: prints and contexts the first version missed --------------------------
CUE_WORDS = ["Mob:", "Mob.", "Ph:", "Cel:", "Tfno:", "tlf", "mobiel:", "GSM:", "contact number",
             "S\u0110T:", "\u0110i\u1ec7n tho\u1ea1i:", "\u03c4\u03b7\u03bb.", "\u062a\u0644\u0641\u0646:",
             "\u09ab\u09cb\u09a8", "\u9023\u7d61\u5148", "\u8054\u7cfb\u65b9\u5f0f", "\uc5f0\ub77d\ucc98",
             "Telefonnummer", "TEL", "phoneNumber:"]


def attack_positives(R, digits):
    """Rows whose value must be found whole: after JSON escapes, before `(home)` or `24/7`, after
    a house number, in bracket prints, with more cue words; UATP 4-4-4-3; IBANs in lower case,
    with unicode dashes or dots; routing numbers 4-4-1 with spaces."""
    d = digits
    out = []

    def row(kind, text):
        out.append({"text": text, "expect": [kind]})

    for _ in range(60):
        v = R.choice([
            lambda: f"+44 20 {R.randint(3, 8)}{d(3)} {d(4)}",
            lambda: f"0{R.choice('789')}0-{d(4)}-{d(4)}",
            lambda: f"({R.randint(1, 9)}{R.randint(1, 9)}) 9{d(4)}-{d(4)}",
            lambda: f"+49 30 {R.randint(2, 9)}{d(6)}",
            lambda: f"+7({R.randint(3, 9)}{d(2)}){d(3)}-{d(2)}-{d(2)}",
            lambda: f"8({R.randint(3, 9)}{d(2)}){d(3)}-{d(2)}-{d(2)}",
            lambda: f"+44(0)20 {R.randint(3, 8)}{d(3)} {d(4)}",
            lambda: f"(+44) 20 {R.randint(3, 8)}{d(3)} {d(4)}",
            lambda: f"(+49) 30 {R.randint(2, 9)}{d(6)}",
            lambda: f"0044 20 {R.randint(3, 8)}{d(3)} {d(4)}",
            lambda: f"011 44 20 {R.randint(3, 8)}{d(3)} {d(4)}",
            lambda: f"(0{R.choice('2378')}) {R.randint(2, 9)}{d(3)} {d(4)}",
        ])()
        text = R.choice([
            lambda: json.dumps({"t": f"line1\n{v}"}),
            lambda: json.dumps({"note": f"{R.choice(['Name: Ken', 'Hi'])}\t{v}"}),
            lambda: f"{v} ({R.choice(['home', 'office', 'mobile', 'Ken'])})",
            lambda: f"{v} 24/7",
            lambda: f"Apt {R.randint(1, 99)} {v}",
            lambda: f"{v}",
        ])()
        row("phone", text)
    for _ in range(30):
        v = R.choice([f"0{R.randint(6, 7)}{d(8)}", f"0{R.randint(2, 9)}{d(1)} {d(7)}", f"07{d(3)} {d(6)}"])
        row("phone", R.choice([f"{R.choice(CUE_WORDS)} {v}", json.dumps({"msisdn": "44" + d(10)})]))
    for _ in range(20):
        n = uatp(digits)
        row("credit_card", R.choice([
            f"{n[:4]} {n[4:8]} {n[8:12]} {n[12:]}",
            f"PAN {n}", json.dumps({"pan": n}), f"Kartennummer {n}", f"n\u00famero de tarjeta {n}",
        ]))
    for _ in range(20):
        v = iban(R)
        row("iban", R.choice([
            dashed(v).lower() if v[4:].isdigit() else dashed(v),
            f"IBAN: {' '.join(v[i:i + 4] for i in range(0, len(v), 4)).lower()}",
            "\u2013".join(v[i:i + 4] for i in range(0, len(v), 4)),
            ".".join(v[i:i + 4] for i in range(0, len(v), 4)),
        ]))
    for _ in range(15):
        v = routing(R, digits)
        row("us_bank_routing", f"{R.choice(['routing number', 'ABA', 'routingNumber:'])} {v[:4]} {v[4:8]} {v[8]}")
    return out


def attack_negatives(R, digits):
    """Look-alikes: cue words inside other words and ordinary words, `+` as a sign, series of
    measurements, ids with a leading 0 labelled as orders, invoices, accounts."""
    d = digits
    out = []

    def add(text):
        out.append({"text": text, "expect": []})

    def nonzero(n):
        return str(R.randint(1, 9)) + d(n - 1)

    for _ in range(40):
        add(R.choice([
            lambda: f"Can you tell me the status of order {nonzero(9)}?",
            lambda: f"tell the user that ticket {nonzero(10)} is closed",
            lambda: json.dumps({"telemetry": {"ts": 1717000000000 + R.randint(0, 10**9)}}),
            lambda: f"telemetry batch {nonzero(8)} sent",
            lambda: f"television channel {nonzero(7)}",
            lambda: f"telnet session {nonzero(8)} closed",
            lambda: f"cellular data used: {nonzero(8)} bytes",
            lambda: json.dumps({"cells": [int(nonzero(8)), int(nonzero(8))]}),
            lambda: f"cell A{R.randint(1, 99)} = {nonzero(8)}",
            lambda: f"a portable binary of {nonzero(7)} bytes",
            lambda: f"mobility score {nonzero(8)}",
            lambda: f"handy script took {nonzero(8)} ns",
            lambda: f"call stack depth {nonzero(7)}",
            lambda: f"RPC call took {nonzero(7)} ns",
            lambda: json.dumps({"call_id": "0" + d(9)}),
            lambda: f"t\u00e9l\u00e9chargement de {nonzero(8)} octets",
            lambda: f"abandoned cart {routing(R, digits)}",
            lambda: f"abacus {routing(R, digits)}",
            lambda: f"cardinality {uatp(digits)}",
            lambda: json.dumps({"cardinality": int(uatp(digits))}),
            lambda: f"cardboard box {uatp(digits)}",
        ])())
    for _ in range(25):
        cc = R.choice(["49", "44", "31", "86", "33"])
        add(R.choice([
            lambda: f"score +{cc}{d(5)}",
            lambda: f"balance +{cc}{d(6)} points",
            lambda: json.dumps({"patch": f"@@ -1 +1 @@\n-{nonzero(10)}\n+{cc}{d(8)}\n"}),
            lambda: f"@@ -1,3 +1,3 @@\n-{nonzero(10)}\n+{cc}{d(8)}\n",
            lambda: f"expires in +{cc}{d(7)} ms",
            lambda: f"delta: +{cc}{d(8)}",
            lambda: f"x = y +{cc}{d(8)}",
            lambda: f"offset +{cc}{d(8)} bytes",
            lambda: f"gained +{cc}{d(5)} followers",
        ])())
    for _ in range(20):
        small = [256, 320, 384, 480, 512, 640, 768, 960]
        big = [1024, 1280, 1600, 1920, 2048, 3072, 4096, 2000, 3000, 5000]
        add(f"{R.choice(['dims:', 'hidden sizes', 'resolution', 'fps', 'sizes', 'items:'])} "
            f"{R.choice(small)} {R.choice(small + big)} {R.choice(big)}")
    for _ in range(30):
        add(R.choice([
            lambda: f"Order 01{d(2)}-{d(4)}-{d(4)} shipped",
            lambda: f"Invoice: 0{R.randint(1, 9)}{d(2)}-{d(4)}-{d(4)}",
            lambda: f"Invoice no. 0{R.randint(1, 9)}{d(1)}-{d(3)}-{d(4)}",
            lambda: f"account 01{d(2)}-{d(7)}",
            lambda: f"EIN 0{R.randint(1, 9)}-{d(7)}",
            lambda: f"Tax ID: 0{R.randint(1, 9)}-{d(7)}",
            lambda: f"case 0{R.randint(2, 9)}-{d(7)} filed",
            lambda: f"request_id=01{d(2)}-{d(4)}-{d(4)}",
            lambda: f"part no. 0{R.randint(1, 9)}{d(2)}-{d(4)}-{d(4)}",
            lambda: f"[2026-11-30 12:34:56,789] INFO 01{d(2)}-{d(3)}-{d(4)}",
        ])())
    return out


def negatives(R, digits):
    out = []

    def add(text, expect=()):
        out.append({"text": text, "expect": list(expect)})

    def luhn_valid(prefix, n):
        body = prefix + digits(n - len(prefix) - 1)
        return body + luhn_digit(body)

    for _ in range(20):
        # Ids of 15 digits that start with 1, Luhn-valid, without a UATP cue.
        n = luhn_valid("1", 15)
        add(R.choice([json.dumps({"user_id": int(n), "name": "ann"}), json.dumps({"id": n}),
                      f"object {n} created", json.dumps({"payment_id": n, "amount": "12.00"}),
                      f"serial {n[:4]} {n[4:8]} {n[8:12]} {n[12:]}", f"Order #{n[:4]} {n[4:9]} {n[9:]} shipped"]))
    for _ in range(15):
        add(R.choice([json.dumps({"ts": 1764504000000 + R.randint(0, 10**9), "port": R.choice([8080, 443, 5432])}),
                      json.dumps({"created_us": 1764504000000000 + R.randint(0, 10**12)}),
                      f"{R.randint(2024, 2027)}-11-{R.randint(10, 30)}T12:{R.randint(10, 59)}:00Z INFO GET /api/v1/items/{digits(11)} 200 took={R.randint(1, 9999)}ms port={R.randint(1024, 65535)}",
                      f"worker {R.randint(1, 64)} restarted after {R.randint(10**6, 10**7)} ms on port {R.randint(1024, 65535)}",
                      f"GC pause {R.randint(1, 999)}.{digits(3)}ms, heap {R.randint(10**6, 10**9)} bytes, pid {R.randint(10**5, 10**7)}"]))
    for _ in range(10):
        # IPv4 addresses and host:port are addresses, not phone numbers.
        add(R.choice([f"conn from 10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}:{R.randint(1024, 65535)} closed after {R.randint(10**6, 10**7)} ms",
                      f"host 192.168.{R.randint(0, 255)}.{R.randint(1, 254)} up since {R.randint(10**6, 10**7)}s"]), ["ip_address"])
    for _ in range(20):
        # 10- and 11-digit numbers without a phone cue, national ids of other countries.
        add(R.choice([json.dumps({"order_id": "1" + str(R.randint(3, 9)) + digits(9)}),
                      f"invoice 0{R.randint(1, 9)}{digits(8)} due", json.dumps({"account": str(R.randint(6, 9)) + digits(9)}),
                      f"tracking 0{digits(10)}", f"My Number {R.randint(1, 9)}{digits(3)} {digits(4)} {digits(4)}"]))
        # (Other countries' identifiers are labelled by scripts/corpus_idsd.py, valid or not.)
    for _ in range(20):
        # Versions, dates, UUIDs, IPv4, code.
        add(R.choice([f"release {R.randint(1, 9)}.{R.randint(0, 20)}.{R.randint(0, 99)}-{digits(7)}",
                      f"due {R.choice(['2026-11-30', '30-11-2026', '30.11.2026', '11/30/2026'])} at 09:00",
                      json.dumps({"uuid": f"{digits(8)}-{digits(4)}-4{digits(3)}-a{digits(3)}-{digits(12)}"}),
                      f"const TIMEOUT_MS = {R.randint(10**6, 10**8)};", "int[] modes = {0644, 0755, 01777};",
                      f"let ids = [{digits(10)}, {digits(11)}, {digits(7)}];",
                      f"if (n > {R.randint(10**6, 10**9)}) {{ return 0x{digits(7)}; }}",
                      f"SELECT * FROM users WHERE id = 1{digits(10)};",
                      f"time.sleep(0.{digits(3)})  # retry {R.randint(1, 9)}",
                      f"part no. 0{R.randint(1, 9)}{digits(2)}-{digits(4)}-{digits(2)}"]))
    for _ in range(15):
        # Signed numbers that are no E.164 number; dashed routing and IBAN look-alikes.
        v = routing(R, digits)
        bad = v[:8] + str((int(v[8]) + 1) % 10)
        good_iban = iban(R, "NL")  # no run of digits inside that could be a card
        add(R.choice([f"heap +{R.choice([1048576, 2097152, 4194304])} bytes", f"delta +{R.choice([86400000, 3600000, 604800])} ms",
                      f"part {v[:4]}-{v[4:8]}-{v[8]} in stock",
                      f"routing {bad[:4]}-{bad[4:8]}-{bad[8]}",
                      dashed(good_iban[:-1] + str((int(good_iban[-1]) + 1) % 10)) if good_iban[-1].isdigit() else f"ref {dashed(good_iban)}-77"]))
    out += attack_negatives(R, digits)
    return out
