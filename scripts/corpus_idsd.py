"""Corpus rows for the national identifiers written with digits only (issue 11, item 3):
uk_nhs_number, ca_sin, in_aadhaar, au_tfn, au_abn, au_acn, au_medicare, pl_pesel, br_cpf,
kr_rrn, us_itin. Valid values (real check digits, dates, ranges) in the ways people write them,
in JSON and prose, each with the cue its detector asks for where it asks for one; and hard
negatives: the same shapes with a wrong check digit, without a cue, under another label, and
the digit groups of code, logs, versions, prices, order and tracking numbers.

Used by gen_corpus.py: positives(R, place, digits) and negatives(R, digits).
"""
import json
import random

N = 40  # positives per type


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


# --- check digits ----------------------------------------------------------------------
def nhs_check(body):
    r = sum(int(c) * w for c, w in zip(body, range(10, 1, -1))) % 11
    c = (11 - r) % 11
    return None if c == 10 else str(c)


VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
      [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
      [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
      [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
      [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
      [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def verhoeff_digit(body):
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = VD[c][VP[(i + 1) % 8][int(ch)]]
    return str(VINV[c])


def verhoeff_ok(s):
    c = 0
    for i, ch in enumerate(reversed(s)):
        c = VD[c][VP[i % 8][int(ch)]]
    return c == 0


def tfn_ok(s):
    w = [1, 4, 3, 7, 5, 8, 6, 9, 10] if len(s) == 9 else [10, 7, 8, 4, 6, 3, 5, 1]
    return sum(int(c) * k for c, k in zip(s, w)) % 11 == 0


def abn_ok(s):
    d = [int(c) for c in s]
    d[0] -= 1
    return d[0] >= 0 and sum(x * w for x, w in zip(d, [10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19])) % 89 == 0


def acn_check(body):
    return str((10 - sum(int(c) * w for c, w in zip(body, range(8, 0, -1))) % 10) % 10)


def medicare_check(body):
    return str(sum(int(c) * w for c, w in zip(body, [1, 3, 7, 9, 1, 3, 7, 9])) % 10)


def pesel_check(body):
    return str((10 - sum(int(c) * w for c, w in zip(body, [1, 3, 7, 9, 1, 3, 7, 9, 1, 3])) % 10) % 10)


def cpf_digits(body):
    d = [int(c) for c in body]
    for n in (9, 10):
        s = sum(x * w for x, w in zip(d, range(n + 1, 1, -1)))
        d.append((s * 10) % 11 % 10)
    return "".join(map(str, d))


def rrn_check(body):
    s = sum(int(c) * w for c, w in zip(body, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]))
    return str((11 - s % 11) % 10)


# --- values ----------------------------------------------------------------------------
def mk(R, digits):
    def nhs():
        while True:
            body = str(R.choice([4, 4, 6, 7, 3])) + digits(8)
            c = nhs_check(body)
            if c is not None:
                return body + c

    def sin():
        body = str(R.choice([1, 2, 3, 4, 5, 6, 7, 9])) + digits(7)
        return body + luhn_digit(body)

    def aadhaar():
        body = str(R.randint(2, 9)) + digits(10)
        return body + verhoeff_digit(body)

    def tfn(n=9):
        while True:
            v = digits(n)
            if tfn_ok(v) and v[0] != "0":
                return v

    def abn():
        while True:
            v = str(R.randint(1, 9)) + digits(10)
            if abn_ok(v):
                return v

    def acn():
        body = digits(8)
        return body + acn_check(body)

    def medicare():
        body = str(R.randint(2, 6)) + digits(7)
        return body + medicare_check(body) + str(R.randint(1, 9))

    def pesel():
        year = R.randint(1930, 2024)
        month, day = R.randint(1, 12), R.randint(1, 28)
        mm = month + (20 if year >= 2000 else 0)
        body = f"{year % 100:02d}{mm:02d}{day:02d}" + digits(4)
        return body + pesel_check(body)

    def cpf():
        while True:
            body = digits(9)
            if len(set(body)) > 1:
                return cpf_digits(body)

    def rrn(checked=True):
        year = R.randint(1940, 2019)
        month, day = R.randint(1, 12), R.randint(1, 28)
        g = R.choice([1, 2] if year < 2000 else [3, 4]) + R.choice([0, 0, 0, 4])
        body = f"{year % 100:02d}{month:02d}{day:02d}{g}" + digits(5)
        c = rrn_check(body)
        if not checked:
            c = str((int(c) + R.randint(1, 9)) % 10)
        return body + c

    def itin():
        group = R.choice(list(range(50, 66)) + list(range(70, 89)) + [90, 91, 92] + list(range(94, 100)))
        return f"9{digits(2)}", f"{group:02d}", f"{R.randint(1, 9999):04d}"

    return dict(nhs=nhs, sin=sin, aadhaar=aadhaar, tfn=tfn, abn=abn, acn=acn, medicare=medicare,
                pesel=pesel, cpf=cpf, rrn=rrn, itin=itin)


def grouped(v, lens, sep):
    out, i = [], 0
    for n in lens:
        out.append(v[i:i + n])
        i += n
    return sep.join(out)


def positives(R, place, digits):
    v = mk(R, digits)
    out = []

    def add(kind, make, n=N):
        for _ in range(n):
            value, cue = make()
            out.append({"text": place(value, "id number", cue), "expect": [kind]})

    sep = lambda: R.choice([" ", " ", "-", "."])
    add("uk_nhs_number", lambda: (grouped(v["nhs"](), [3, 3, 4], sep()) if R.random() < 0.7 else v["nhs"](),
                                  R.choice(["NHS number", "nhs_no", "NHS No.", "nhsNumber", "NHS"])))
    add("ca_sin", lambda: (grouped(v["sin"](), [3, 3, 3], R.choice([" ", "-"])) if R.random() < 0.7 else v["sin"](),
                           R.choice(["SIN", "sin_number", "social insurance number", "SIN number", "numéro d'assurance sociale", "customer_sin"])))
    # Aadhaar: grouped and alone in its field without a cue; in prose or bare with one.
    for _ in range(N // 2):
        out.append({"text": json.dumps({"id": R.randint(1, 10**6), R.choice(["id_number", "document", "kyc_id"]): grouped(v["aadhaar"](), [4, 4, 4], R.choice([" ", "-"])), "status": "ok"}),
                    "expect": ["in_aadhaar"]})
    add("in_aadhaar", lambda: (grouped(v["aadhaar"](), [4, 4, 4], " ") if R.random() < 0.5 else v["aadhaar"](),
                               R.choice(["Aadhaar", "aadhaar_number", "Aadhar no", "UIDAI number", "आधार"])), N // 2)
    add("au_tfn", lambda: ((lambda x: grouped(x, [3, 3, 3], " ") if R.random() < 0.6 else x)(v["tfn"]()) if R.random() < 0.85
                           else (lambda x: grouped(x, R.choice([[2, 3, 3], [3, 3, 2]]), " ") if R.random() < 0.5 else x)(v["tfn"](8)),
                           R.choice(["TFN", "tax file number", "tfn", "Tax File No"])))
    for _ in range(N // 2):
        value = grouped(v["abn"](), [2, 3, 3, 3], " ")
        out.append({"text": R.choice([json.dumps({"supplier": "Acme Pty Ltd", "business_id": value}),
                                      f"Invoice from Acme Pty Ltd, {value}, due in 30 days",
                                      f"ABN {value}"]), "expect": ["au_abn"]})
    add("au_abn", lambda: (v["abn"](), R.choice(["ABN", "abn", "Australian Business Number"])), N // 2)
    add("au_acn", lambda: (grouped(v["acn"](), [3, 3, 3], " ") if R.random() < 0.7 else v["acn"](),
                           R.choice(["ACN", "acn", "Australian Company Number"])))
    add("au_medicare", lambda: ((lambda m: R.choice([grouped(m, [4, 5, 1], " "), m, grouped(m, [4, 5, 1], " ") + " " + str(R.randint(1, 9)), m + str(R.randint(1, 9))]))(v["medicare"]()),
                                R.choice(["Medicare number", "medicare", "medicare_card", "Medicare card no"])))
    add("pl_pesel", lambda: (v["pesel"](), R.choice(["PESEL", "pesel", "numer PESEL"])))
    for _ in range(N // 2):
        c = v["cpf"]()
        value = f"{c[:3]}.{c[3:6]}.{c[6:9]}-{c[9:]}"
        out.append({"text": R.choice([json.dumps({"cliente": "Maria", "documento": value}, ensure_ascii=False),
                                      f"Cliente Maria Silva, documento {value}, pago", f"{value}"]),
                    "expect": ["br_cpf"]})
    add("br_cpf", lambda: ((lambda c: R.choice([c, f"{c[:9]}-{c[9:]}", f"{c[:3]}.{c[3:6]}.{c[6:9]}-{c[9:]}"]))(v["cpf"]()),
                           R.choice(["CPF", "cpf", "Cadastro de Pessoas Físicas"])), N // 2)
    for _ in range(N // 2):
        r = v["rrn"]()
        out.append({"text": R.choice([json.dumps({"name": "Kim", "id": f"{r[:6]}-{r[6:]}"}),
                                      f"registered {r[:6]}-{r[6:]} today"]), "expect": ["kr_rrn"]})
    add("kr_rrn", lambda: ((lambda r: R.choice([f"{r[:6]}-{r[6:]}", r]))(v["rrn"](R.random() < 0.5)),
                           R.choice(["주민등록번호", "RRN", "resident registration number", "주민번호"])), N // 2)
    add("us_itin", lambda: ((lambda p: R.choice(["-", " ", "."]).join(p))(v["itin"]()), "taxpayer id"), N * 3 // 4)
    add("us_itin", lambda: ("".join(v["itin"]()), R.choice(["ITIN", "itin"])), N // 4)
    # After timestamps, decimals and counts (the pass skips those in one step), and with
    # look-alike spaces between the groups (the decoded view folds them).
    busy = [("uk_nhs_number", lambda: "NHS number " + grouped(v["nhs"](), [3, 3, 4], " ")),
            ("ca_sin", lambda: "SIN " + grouped(v["sin"](), [3, 3, 3], " ")),
            ("in_aadhaar", lambda: "Aadhaar " + grouped(v["aadhaar"](), [4, 4, 4], " ")),
            ("au_tfn", lambda: "TFN " + grouped(v["tfn"](), [3, 3, 3], " ")),
            ("au_abn", lambda: "ABN " + grouped(v["abn"](), [2, 3, 3, 3], " ")),
            ("au_acn", lambda: "ACN " + grouped(v["acn"](), [3, 3, 3], " ")),
            ("au_medicare", lambda: "Medicare " + grouped(v["medicare"](), [4, 5, 1], " ")),
            ("pl_pesel", lambda: "PESEL " + v["pesel"]()),
            ("br_cpf", lambda: (lambda c: f"CPF {c[:3]}.{c[3:6]}.{c[6:9]}-{c[9:]}")(v["cpf"]())),
            ("kr_rrn", lambda: (lambda r: f"주민등록번호 {r[:6]}-{r[6:]}")(v["rrn"](False))),
            ("us_itin", lambda: "-".join(v["itin"]()))]
    for kind, make in busy:
        for _ in range(2):
            value = make()
            ts = f"2026-0{R.randint(1, 9)}-{R.randint(10, 28)}T{R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)}Z"
            out.append({"text": R.choice([
                json.dumps({"at": ts, "score": float(f"0.{digits(3)}"), "tokens": R.randint(1, 999), "text": value}, ensure_ascii=False),
                f"{ts} {value}",
                f"seen {ts}, rated {R.randint(1, 9)}.{digits(2)} by {R.randint(1, 99)} users: {value}",
            ]), "expect": [kind]})
        value = make().replace(" ", R.choice(["\u00a0", "\u202f", "\u2009"]))
        out.append({"text": f"on file: {value}", "expect": [kind]})
    # The cue elsewhere: a sibling JSON member naming the type (FHIR identifiers, KYC APIs), a
    # label on the line above, a table's column header. (Their own random stream, so that the
    # rows generated after these stay as they were.)
    R = random.Random(1101)
    v = mk(R, lambda n: "".join(R.choice("0123456789") for _ in range(n)))
    named = [("uk_nhs_number", "nhs", "https://fhir.nhs.uk/Id/nhs-number", "NHS Number"), ("ca_sin", "sin", "SIN", "SIN"),
             ("in_aadhaar", "aadhaar", "aadhaar", "Aadhaar"), ("pl_pesel", "pesel", "PESEL", "PESEL"),
             ("br_cpf", "cpf", "CPF", "CPF"), ("au_tfn", "tfn", "TFN", "TFN")]
    for kind, key, name, label in named:
        for _ in range(3):
            value = v[key]()
            out.append({"text": R.choice([
                json.dumps({"identifier": [{"system": name, "value": value}]}),
                json.dumps({"idType": name, "idNumber": value}),
                json.dumps({"document_number": value, "document_type": name}),
                f"{label}:\n  {value}",
                f"{label}\n{value}",
                f"name,{key}_number,city\nJane Smith,{value},Leeds",
                f"imie;nazwisko;{key}\nJan;Kowalski;{value}",
                f"| Name | {label} |\n|---|---|\n| Jane | {value} |",
            ]), "expect": [kind]})
    return out


def negatives(R, digits):
    v = mk(R, digits)
    out = []

    def add(make, n):
        for _ in range(n):
            out.append({"text": make(), "expect": []})

    def no_card(make):
        """A thirteen-digit value no card issuer's prefix starts (a bare one may be a card)."""
        while True:
            x = make()
            if x[0] in "01789":
                return x

    def bad(value, ok):
        """The value with its last digit changed so that `ok` fails."""
        while True:
            x = value[:-1] + str(R.randint(0, 9))
            if not ok(x):
                return x

    # Right shape, right cue, wrong check digit.
    # (As one run: grouped 3-3-4, a wrong NHS number is a North American phone shape, which
    # the phone detector takes whatever the label.)
    add(lambda: f"NHS number {bad(v['nhs'](), lambda x: nhs_check(x[:9]) == x[9])}", 10)
    add(lambda: json.dumps({"sin": grouped(bad(v["sin"](), lambda x: luhn_digit(x[:8]) == x[8]), [3, 3, 3], " ")}), 10)
    add(lambda: f"Aadhaar {grouped(bad(v['aadhaar'](), verhoeff_ok), [4, 4, 4], ' ')}", 10)
    add(lambda: json.dumps({"tfn": bad(v["tfn"](), tfn_ok)}), 8)
    add(lambda: f"ABN {grouped(bad(v['abn'](), abn_ok), [2, 3, 3, 3], ' ')}", 8)
    add(lambda: f"ACN {grouped(bad(v['acn'](), lambda x: acn_check(x[:8]) == x[8]), [3, 3, 3], ' ')}", 8)
    add(lambda: f"medicare {(lambda m: m[:8] + str((int(m[8]) + 1) % 10) + m[9])(v['medicare']())}", 8)
    add(lambda: f"PESEL {bad(v['pesel'](), lambda x: pesel_check(x[:10]) == x[10])}", 8)
    add(lambda: (lambda c: f"{c[:3]}.{c[3:6]}.{c[6:9]}-{c[9:]}")(bad(v["cpf"](), lambda x: cpf_digits(x[:9]) == x)), 10)
    add(lambda: R.choice(["111.111.111-11", "000.000.000-00", "999.999.999-99"]), 3)
    add(lambda: (lambda r: f"ref {r[:6]}-{r[6:]}")(v["rrn"](False)), 10)
    add(lambda: f"{R.randint(0, 99):02d}{R.randint(13, 99)}{R.randint(32, 99)}-{R.randint(1, 8)}{digits(6)}", 10)
    add(lambda: f"9{digits(2)}-{R.choice(['00', '10', '49', '66', '69', '89', '93'])}-{digits(4)}", 10)
    # Valid values without their cue, or under another label.
    add(lambda: R.choice([f"invoice {v['nhs']()} due", json.dumps({"order_id": int(v["nhs"]())}),
                          f"tracking {v['sin']()}", json.dumps({"account": v["acn"]()}),
                          f"ref {v['tfn']()}", f"order {v['abn']()} shipped", f"ticket {v['pesel']()}",
                          json.dumps({"customer_id": v["cpf"]()}), f"batch {v['medicare']()}",
                          f"item {v['aadhaar']()}", json.dumps({"serial": no_card(v["rrn"])}),
                          f"case {''.join(v['itin']())}"]), 36)
    add(lambda: R.choice([f"The SIN itself is {digits(4)}", "since 2019 we have shipped 3,412 parcels",
                          f"single {digits(3)} {digits(3)}", f"NASA mission {digits(3)}-{digits(3)}"]), 8)
    # Code and logs that use the cue words for something else, next to long numbers.
    add(lambda: R.choice([f"y = math.sin(theta) * {v['sin']()}", f"double s = Math.sin(x) + {v['sin']()}L;",
                          json.dumps({"uid": int(v["aadhaar"]()), "gid": 1000}),
                          f"uid={v['aadhaar']()} gid=1000 groups=wheel",
                          f"mount nas:/{digits(3)} at {v['acn']()}",
                          json.dumps({"nas_device": "nas-01", "bytes": int(v["sin"]())}),
                          f"Since {v['tfn']()} requests failed",
                          f"[INFO] single shot {v['nhs']()} ms"]), 24)
    # Digit groups of code, logs, versions, prices and tables.
    add(lambda: R.choice([f"EXPOSE {R.randint(1000, 9999)} {R.randint(1000, 9999)} {R.randint(1000, 9999)}",
                          f"ports = [{R.randint(1000, 9999)}, {R.randint(1000, 9999)}, {R.randint(1000, 9999)}]",
                          f"years {R.randint(1990, 2030)} {R.randint(1990, 2030)} {R.randint(1990, 2030)}",
                          f"let dims = vec![{R.randint(100, 999)}, {R.randint(100, 999)}, {R.randint(100, 999)}];",
                          f"int[] a = {{{digits(3)}, {digits(3)}, {digits(3)}}};",
                          f"total {R.randint(10, 99)} {digits(3)} {digits(3)} {digits(3)},{digits(2)} EUR",
                          f"[{R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)}] pid={digits(5)} took {digits(3)} ms",
                          f"build {R.randint(1, 9)}.{R.randint(0, 9)}.{digits(3)}-{digits(2)}",
                          f"sku {digits(3)}-{digits(3)}-{digits(3)}",
                          f"tracking {digits(4)} {digits(4)} {digits(4)} {digits(4)}",
                          f"uuid {digits(8)}-{digits(4)}-{digits(4)}-{digits(4)}-{digits(12)}",
                          f"lot {digits(6)}-{digits(7)}", f"order {digits(3)}.{digits(3)}.{digits(3)}-{digits(2)}"]), 40)
    R = random.Random(1102)
    v = mk(R, lambda n: "".join(R.choice("0123456789") for _ in range(n)))
    # Words that are cues only in another language or as code (issue 11's tester): Spanish
    # `sin` ("without"), a constant named after a cue, Spanish landlines and versions in an
    # ITIN's spaced and dotted shapes, a type member naming something else.
    add(lambda: R.choice([f"Envío sin coste para el pedido {v['sin']()}.",
                          f"Sin embargo, el pedido {v['sin']()} llegó tarde.",
                          f"float s = sin {v['sin']()};",
                          f"Llámame sin falta al {grouped(v['sin'](), [3, 3, 3], ' ')}",
                          f"Precio sin IVA del pedido {v['sin']()}.",
                          f"const SIN_TABLE_SIZE = {v['sin']()};",
                          f"ticket {' '.join(v['itin']())} closed",
                          f"version {'.'.join(v['itin']())} released",
                          json.dumps({"type": "order", "value": v["sin"]()}),
                          json.dumps({"system": "https://example.org/orders", "value": v["nhs"]()}),
                          f"Order\n{v['pesel']()}",
                          f"order_id,name\n{v['pesel']()},Jan"]), 40)
    return out
