"""Corpus rows from the review of issue 11: values in CSV cells next to numeric cells, Markdown
tables inside JSON strings (an MCP tool result), phone words in the previous JSON member or
clause, NHS headers as identifiers, and the phone cue `ring`. Each row's `expect` lists the
kinds of the values it holds."""

import json


def _nhs(R):
    while True:
        d = [R.randint(0, 9) for _ in range(9)]
        c = 11 - sum(v * (10 - i) for i, v in enumerate(d)) % 11
        if c == 10 or len(set(d)) == 1:
            continue
        return "".join(map(str, d)) + str(c % 11 if c != 11 else 0)


def _cpf(R):
    d = [R.randint(0, 9) for _ in range(9)]
    for n in (10, 11):
        r = sum(v * (n - i) for i, v in enumerate(d)) * 10 % 11
        d.append(0 if r == 10 else r)
    s = "".join(map(str, d))
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"


def _routing(R):
    while True:
        p = R.choice([f"{R.randint(1, 12):02d}", f"{R.randint(21, 32)}", f"{R.randint(61, 72)}"])
        d = [int(c) for c in p] + [R.randint(0, 9) for _ in range(6)]
        for c in range(10):
            x = d + [c]
            if (3 * (x[0] + x[3] + x[6]) + 7 * (x[1] + x[4] + x[7]) + x[2] + x[5] + x[8]) % 10 == 0:
                return "".join(map(str, x))


def _uk_mobile(R):
    return f"07700 900{R.randint(0, 999):03d}"


def positives(R, place, digits):
    out = []
    for _ in range(10):
        # An id in a CSV cell before a numeric cell.
        out.append({"text": f"id,cpf,qty\n{R.randint(1, 999)},{_cpf(R)},{R.randint(1, 99)}",
                    "expect": ["br_cpf"]})
        # A Markdown table in a JSON string: each column's header decides.
        nhs = _nhs(R)
        table = (f"| name | nhs number | phone |\n|---|---|---|\n"
                 f"| A. Smith | {nhs[:3]} {nhs[3:6]} {nhs[6:]} | {_uk_mobile(R)} |")
        out.append({"text": json.dumps({"type": "text", "text": table}),
                    "expect": ["uk_nhs_number", "phone"]})
        # A phone member, then a routing member.
        out.append({"text": json.dumps({"phone": _uk_mobile(R), "routing_number": _routing(R)}),
                    "expect": ["phone", "us_bank_routing"]})
        out.append({"text": f"Call me at {_uk_mobile(R)}; routing {_routing(R)}",
                    "expect": ["phone", "us_bank_routing"]})
        # A CSV header naming the NHS number inside an identifier.
        nhs = _nhs(R)
        out.append({"text": f"uk_nhs,note\n{nhs[:3]} {nhs[3:6]} {nhs[6:]},ok", "expect": ["uk_nhs_number"]})
        out.append({"text": f"Ring me on 020 7946 {R.randint(0, 9999):04d}", "expect": ["phone"]})
    return out


def negatives(R, digits):
    out = []
    for _ in range(10):
        # A phone word in the previous member is not the next value's cue.
        out.append({"text": json.dumps({"tel": "", "order": digits(9)}), "expect": []})
        out.append({"text": f"Call me later; order {digits(10)}", "expect": []})
        # The phone header of another column does not claim a reference number.
        out.append({"text": f"| ref | phone |\n|---|---|\n| 020 {digits(4)} {digits(4)} | |", "expect": []})
        # Amounts in prose keep their decimals.
        out.append({"text": f"total {R.randint(10, 99)} 345 678 901,{R.randint(10, 99)} EUR", "expect": []})
    return out
