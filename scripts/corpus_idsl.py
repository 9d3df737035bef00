"""Corpus rows for the national identifiers that hold letters (issue 11, item 3): uk_nino,
in_pan, es_nif, it_fiscal_code, sg_nric, fi_hetu. Positives in the forms people write, and hard
negatives that look like them: wrong checks, never-issued prefixes, product and part codes,
licence plates, flight numbers, hex ids, long literals and upper-case identifiers in code and
logs. Used by gen_corpus.py with its random object, its place() and digits()."""
import json
import random

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# --- UK National Insurance number (HMRC NIM39110) ----------------------------------------
NINO_FIRST = [c for c in UPPER if c not in "DFIQUV"]
NINO_SECOND = [c for c in UPPER if c not in "DFIOQUV"]
NINO_NEVER = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def nino_prefix(R):
    while True:
        p = R.choice(NINO_FIRST) + R.choice(NINO_SECOND)
        if p not in NINO_NEVER:
            return p


# --- Spanish DNI/NIE -------------------------------------------------------------------
ES_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni(R, digits):
    n = digits(8)
    return n, ES_LETTERS[int(n) % 23]


def nie(R, digits):
    p = R.choice("XYZ")
    n = digits(7)
    return p + n, ES_LETTERS[int(str("XYZ".index(p)) + n) % 23]


# --- Italian fiscal code ----------------------------------------------------------------
CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]
CF_OMOCODIA = "LMNPQRSTUV"


def cf_value(c):
    return ord(c) - 48 if c.isdigit() else ord(c) - 65


def cf_check(s15):
    return chr(65 + sum(CF_ODD[cf_value(c)] if i % 2 == 0 else cf_value(c) for i, c in enumerate(s15)) % 26)


def fiscal_code(R, digits):
    day = R.randint(1, 28) + (40 if R.random() < 0.5 else 0)
    body = ("".join(R.choice(UPPER) for _ in range(6)) + digits(2) + R.choice("ABCDEHLMPRST")
            + f"{day:02d}" + R.choice("ABCDEFGHILMZ") + digits(3))
    if R.random() < 0.15:  # omocodia: digits replaced from the right
        chars = list(body)
        for k in [14, 13, 12, 10, 9, 7, 6][:R.randint(1, 3)]:
            chars[k] = CF_OMOCODIA[int(chars[k])]
        body = "".join(chars)
    return body + cf_check(body)


# --- Singapore NRIC/FIN ---------------------------------------------------------------
SG_TABLES = {"S": (0, "JZIHGFEDCBA"), "T": (4, "JZIHGFEDCBA"), "F": (0, "XWUTRQPNMLK"),
             "G": (4, "XWUTRQPNMLK"), "M": (3, "XWUTRQPNJLK")}


def nric_check(p, d):
    off, table = SG_TABLES[p]
    return table[(off + sum(int(c) * w for c, w in zip(d, [2, 7, 6, 5, 4, 3, 2]))) % 11]


def nric(R, digits):
    p = R.choice("SSTTFGM")
    d = digits(7)
    return p + d + nric_check(p, d)


# --- Finnish personal identity code -----------------------------------------------------
HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(R):
    year = R.randint(1901, 2024)
    month = R.randint(1, 12)
    day = R.randint(1, 28)
    sign = R.choice("-" * 4 + "YXWVU") if year < 2000 else R.choice("A" * 4 + "BCDEF")
    if R.random() < 0.05:
        year, sign = R.randint(1860, 1899), "+"
    ind = R.randint(2, 899)
    nine = f"{day:02d}{month:02d}{year % 100:02d}{ind:03d}"
    return f"{day:02d}{month:02d}{year % 100:02d}{sign}{ind:03d}{HETU_CHECK[int(nine) % 31]}"


# --- Indian PAN ----------------------------------------------------------------------------
def pan(R, digits):
    return ("".join(R.choice(UPPER) for _ in range(3)) + R.choice("ABCFGHJLPT") + R.choice(UPPER)
            + digits(4) + R.choice(UPPER))


def positives(R, place, digits):
    out = []

    def add(kind, make, n):
        for _ in range(n):
            v, label = make()
            out.append({"text": place(v, label), "expect": [kind]})

    def nino_form():
        p, d, s = nino_prefix(R), digits(6), R.choice("ABCD")
        style = R.random()
        if style < 0.45:
            return p + d + s, R.choice(["national insurance number", "NI number", "nino", "employee ref", "ni"])
        if style < 0.75:
            return f"{p} {d[:2]} {d[2:4]} {d[4:]} {s}", R.choice(["NI number", "NINO", "national_insurance", "payroll id"])
        if style < 0.85:
            return f"{p} {d} {s}", R.choice(["NI no", "national insurance"])
        if style < 0.93:
            return p + d, R.choice(["NINO", "national insurance number", "ni_number"])  # no suffix: a cue
        return (p + d + s).lower(), R.choice(["national insurance number", "nino"])  # lower case: a cue
    add("uk_nino", nino_form, 50)

    def pan_form():
        v = pan(R, digits)
        return (v.lower() if R.random() < 0.1 else v), R.choice(["PAN", "pan_number", "PAN card", "permanent account number", "income tax PAN", "panNo"])
    add("in_pan", pan_form, 45)

    def es_form():
        if R.random() < 0.55:
            n, c = dni(R, digits)
            label = R.choice(["DNI", "NIF", "dni", "nif", "DNI/NIF"])
            style = R.random()
            if style < 0.55:
                return n + c, label
            if style < 0.8:
                return f"{n}-{c}", label
            if style < 0.9:
                return f"{n} {c}", label
            return n + c.lower(), label
        n, c = nie(R, digits)
        style = R.random()
        if style < 0.6:
            return n + c, R.choice(["NIE", "residence permit", "foreigner id", "nie"])
        if style < 0.85:
            return f"{n}-{c}", R.choice(["NIE", "permiso"])
        return f"{n} {c}", "NIE"
    add("es_nif", es_form, 50)

    def cf_form():
        v = fiscal_code(R, digits)
        return (v.lower() if R.random() < 0.1 else v), R.choice(["codice fiscale", "codice_fiscale", "tax code", "fiscal code", "cf", "customer"])
    add("it_fiscal_code", cf_form, 45)

    def sg_form():
        v = nric(R, digits)
        if R.random() < 0.1:
            return v.lower(), R.choice(["NRIC", "nric", "FIN"])
        return v, R.choice(["NRIC", "FIN", "NRIC/FIN", "IC number", "member", "uin"])
    add("sg_nric", sg_form, 45)

    def fi_form():
        return hetu(R), R.choice(["henkilötunnus", "hetu", "personal identity code", "HETU", "patient", "id code"])
    add("fi_hetu", fi_form, 45)

    # After a line break or tab inside a JSON string (json.dumps writes `\n`, `\t`).
    for _ in range(2):
        for kind, v in [("uk_nino", nino_prefix(R) + digits(6) + R.choice("ABCD")),
                        ("in_pan", "PAN:\n" + pan(R, digits)), ("es_nif", "".join(nie(R, digits))),
                        ("it_fiscal_code", fiscal_code(R, digits)), ("sg_nric", nric(R, digits)),
                        ("fi_hetu", hetu(R))]:
            out.append({"text": json.dumps({"role": "user", "content": "my details:" + R.choice(["\n", "\t", "\n\n"]) + v}, ensure_ascii=False),
                        "expect": [kind]})
    # Beside timestamps and counts, and two in one body.
    for _ in range(3):
        ts = f"2026-0{R.randint(1, 9)}-{R.randint(10, 28)}T{R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)}Z"
        out.append({"text": json.dumps({"at": ts, "score": 0.5, "text": f"hetu {hetu(R)} and NIE {''.join(nie(R, digits))}"}, ensure_ascii=False),
                    "expect": ["es_nif", "fi_hetu"]})
        out.append({"text": f"{ts} payroll: NI {nino_prefix(R)} {digits(2)} {digits(2)} {digits(2)} {R.choice('ABCD')}, CF {fiscal_code(R, digits)}",
                    "expect": ["uk_nino", "it_fiscal_code"]})
    return out


def negatives(R, digits):
    out = []

    def add(make, n):
        for _ in range(n):
            out.append({"text": make(), "expect": []})

    def wrong(check, alphabet):
        return R.choice([c for c in alphabet if c != check])

    # Wrong check letters and never-issued prefixes, next to their cues.
    def bad_check():
        k = R.randint(0, 5)
        if k == 0:
            n, c = dni(R, digits)
            return f"DNI {n}{wrong(c, ES_LETTERS)}"
        if k == 1:
            n, c = nie(R, digits)
            return json.dumps({"nie": n + wrong(c, ES_LETTERS)})
        if k == 2:
            v = fiscal_code(R, digits)
            return json.dumps({"codice_fiscale": v[:15] + wrong(v[15], UPPER)})
        if k == 3:
            v = nric(R, digits)
            return f"NRIC {v[:8]}{wrong(v[8], UPPER)}"
        if k == 4:
            v = hetu(R)
            return f"hetu {v[:10]}{wrong(v[10], HETU_CHECK)}"
        return R.choice([f"NI number {p}{digits(6)}{R.choice('ABCD')}" for p in ["QQ", "TN", "BG", "GB", "ZZ", "NK", "DA", "AO", "FY"]]
                        + [f"nino: {nino_prefix(R)}{digits(6)}{R.choice('EFGXYZ')}"])
    add(bad_check, 40)
    # Code in several languages: long and float literals of eight digits with a valid control
    # letter, constants and registers named with capitals and digits.
    def code():
        n, c = dni(R, digits)
        lit = n + "L"
        while ES_LETTERS[int(lit[:8]) % 23] != "L":
            lit = digits(8) + "L"
        return R.choice([
            f"long id = {lit};",
            f"val timeoutMs = {lit}",
            f"static final long SEED = {lit}; // seed",
            f"#define REG_{nino_prefix(R)}{digits(6)}C 0x{digits(4)}",
            f"const {R.choice(['QQ', 'TN', 'ZZ'])}{digits(6)}{R.choice('ABCD')}: u32 = {digits(2)};",
            f"let key = \"part-{nino_prefix(R)}{digits(6)}{R.choice('ABCD')}\";",
            f"if (x.{R.choice('STFGM')}{digits(7)}{R.choice(UPPER)}_enabled) {{ return; }}",
            f"self.{nino_prefix(R)}{digits(6)} = None",
            f"int T{digits(7)}X_count = 0; // bucket",
            f"SELECT * FROM t WHERE code = '{pan(R, digits)}' AND qty > {R.randint(1, 9)};",
            f"docker run --name svc_{nie(R, digits)[0]}{R.choice(UPPER)}_1 img:{R.randint(1, 9)}.{R.randint(0, 9)}",
        ])
    add(code, 40)
    # Log lines with upper-case ids and digits.
    def log():
        ts = f"2026-0{R.randint(1, 9)}-{R.randint(10, 28)}T{R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)}Z"
        return R.choice([
            f"{ts} INFO job={R.choice(UPPER)}{R.choice(UPPER)}{digits(6)} attempt={R.randint(1, 5)} status=200",
            f"{ts} WARN sku={pan(R, digits)} stock={R.randint(0, 99)}",
            f"{ts} ERROR E{digits(7)}{R.choice(UPPER)} while syncing batch B{digits(6)}",
            f"{ts} DEBUG trace {R.getrandbits(64):016X} span {R.getrandbits(32):08X}",
            f"{ts} INFO build {digits(6)}-{digits(3)}{R.choice('QZ')} deployed",
            f"[{ts}] worker-{R.randint(1, 9)} took {R.randint(10, 999)}ms (req {R.choice(UPPER)}{digits(8)})",
        ])
    add(log, 40)
    # Product and part codes, plates, flights, tracking numbers, hex ids.
    def codes():
        return R.choice([
            f"SKU-{nino_prefix(R)}{digits(6)}{R.choice('ABCD')}",
            f"part no. {pan(R, digits)} in stock",
            json.dumps({"sku": pan(R, digits), "qty": R.randint(1, 9)}),
            f"model {R.choice(UPPER)}{R.choice(UPPER)}{digits(6)}, batch {R.choice(UPPER)}{R.choice(UPPER)}{digits(4)}",
            f"plate {R.choice(UPPER)}{R.choice(UPPER)}{digits(2)} {''.join(R.choice(UPPER) for _ in range(3))}",
            f"matrícula {digits(4)} {''.join(R.choice('BCDFGHJKLMNPRSTVWXYZ') for _ in range(3))}",
            f"targa {R.choice(UPPER)}{R.choice(UPPER)} {digits(3)} {R.choice(UPPER)}{R.choice(UPPER)}",
            f"vehicle S{''.join(R.choice(UPPER) for _ in range(2))}{digits(4)}{R.choice(UPPER)}",
            f"flight {R.choice(['BA', 'SQ', 'AY', 'IB', 'AZ', 'AI'])}{R.randint(10, 9999)} to {R.choice(['LHR', 'SIN', 'HEL', 'MAD'])}",
            f"tracking {R.choice(UPPER)}{R.choice(UPPER)}{digits(9)}GB",
            f"invoice INV-{digits(8)}-{R.choice(UPPER)}",
            f"color #{R.getrandbits(24):06X}, id 0x{R.getrandbits(36):09X}",
            f"serial {''.join(R.choice('0123456789ABCDEF') for _ in range(16))}",
            f"licence key {'-'.join(''.join(R.choice(UPPER + '0123456789') for _ in range(5)) for _ in range(4))}",
            f"file scan_{fiscal_code(R, digits)}.pdf",
            f"ref {digits(6)}-{digits(3)}{R.choice(UPPER)}X",
            f"version {R.randint(1, 9)}.{R.randint(0, 99)}.{R.randint(0, 99)}-{R.choice(['rc', 'beta'])}{R.randint(1, 9)}",
        ])
    add(codes, 45)
    # Dates and numbers that start like a Finnish code or a DNI.
    add(lambda: R.choice([f"on {R.randint(10, 28)}{R.randint(10, 12)}{R.randint(10, 99)} at {R.randint(10, 23)}:00",
                          f"range {digits(6)}-{digits(3)}",
                          f"{digits(8)} items",
                          f"20{R.randint(10, 30)}0{R.randint(1, 9)}{R.randint(10, 28)}T{R.randint(10, 23)}{R.randint(10, 59)}00Z"]), 20)
    # Words that are cues only in another language or as code (issue 11's tester): Polish and
    # Spanish `nie` before a DNI's shape, French `fin`, a camera's `pan`, Spanish `ni no`, and
    # `DDMMYY-HHMM` time stamps that pass the Finnish check.
    R = random.Random(1103)

    def digits(n):
        return "".join(R.choice("0123456789") for _ in range(n))

    def stamp():
        while True:
            d, m, y = R.randint(1, 28), R.randint(1, 12), R.randint(20, 26)
            hh, mm = R.randint(0, 23), R.randint(0, 59)
            v = f"{d:02d}{m:02d}{y:02d}-{hh:02d}{mm:02d}"
            if v[7:10] not in ("000", "001") and HETU_CHECK[int(v[:6] + v[7:10]) % 31] == v[10]:
                return v

    def dni_l():
        while True:
            n = digits(8)
            if ES_LETTERS[int(n) % 23] == "L":
                return n + "L"

    def words():
        n, c = dni(R, digits)
        return R.choice([
            f"Zamówienie {n} z dnia 12 marca nie dotarło",
            f"Paczka nr {n} {c.lower()} magazynu nie dotarła",
            f"To nie jest kod {dni_l()}",
            f"val nie = {dni_l()}",
            f"Nie pedido {n} {c.lower()} otros",
            f"let fin = {nric(R, digits).lower()};",
            f"C'est la fin du fichier {nric(R, digits).lower()}",
            f"camera pan {pan(R, digits)}",
            f"panel {pan(R, digits)}",
            f"audio.pan(0.5); const PRESET = \"{pan(R, digits)}\";",
            f"ni no sé, el código {nino_prefix(R).lower()}{digits(6)}{R.choice('abcd')}",
            f"snapshot {stamp()} created",
            f"2026-01-15T10:30:00Z {stamp()} INFO started",
        ])
    add(words, 45)
    return out
