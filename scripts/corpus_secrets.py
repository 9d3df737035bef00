"""Corpus rows for the credential detectors of issue 11: LLM provider keys, platform tokens,
the Slack families and PGP blocks, and their hard negatives (placeholders, near misses, code
that mentions a prefix). Used by gen_corpus.py; values are synthetic, with real checksums."""
import base64
import json
import zlib

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
B64U = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def _s(R, alphabet, n):
    return "".join(R.choice(alphabet) for _ in range(n))


def base62(v):
    out = ""
    for _ in range(6):
        out = B62[v % 62] + out
        v //= 62
    return out


def crc_token(R, prefix):
    """GitHub's and npm's format: 30 random base62, then their CRC32 in base62 (6)."""
    r = _s(R, ALNUM, 30)
    return prefix + r + base62(zlib.crc32(r.encode()))


def with_checksum(prefix, random30):
    return prefix + random30 + base62(zlib.crc32(random30.encode()))


def openai(R):
    kind = R.random()
    if kind < 0.3:
        return "sk-" + _s(R, ALNUM, 20) + "T3BlbkFJ" + _s(R, ALNUM, 20)
    fam = R.choice(["proj", "proj", "svcacct", "admin"])
    n = R.choice([58, 74])
    return f"sk-{fam}-" + _s(R, B64U, n) + "T3BlbkFJ" + _s(R, B64U, n)


def anthropic(R):
    fam = R.choice(["api03", "api03", "admin01"])
    return f"sk-ant-{fam}-" + _s(R, B64U, 93) + "AA"


def fine_grained(r82):
    """A fine-grained PAT of GitHub's shape (22, `_`, 59) from 82 random characters."""
    r = r82.replace("_", "A")
    return "github_pat_" + r[:22] + "_" + r[23:]


def discord_bot(R):
    # A user id is a snowflake: milliseconds since 2015 in its top bits (ids of 2015 to 2030).
    uid = str(10**17 + R.randint(10**16, 10**19) % (2 * 10**18))
    head = base64.b64encode(uid.encode()).decode().rstrip("=")
    return f"{head}.{_s(R, B64U, 6)}.{_s(R, B64U, R.choice([27, 38]))}"


def discord(R):
    if R.random() < 0.5:
        return discord_bot(R)
    host = R.choice(["discord.com", "discordapp.com"])
    return f"https://{host}/api/webhooks/{R.randint(10**17, 10**19)}/{_s(R, B64U, 68)}"


def slack_webhook(R):
    ids = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    if R.random() < 0.7:
        return f"https://hooks.slack.com/services/T{_s(R, ids, 10)}/B{_s(R, ids, 10)}/{_s(R, ALNUM, 24)}"
    return f"https://hooks.slack.com/workflows/T{_s(R, ids, 10)}/A{_s(R, ids, 10)}/{R.randint(10**17, 10**18)}/{_s(R, ALNUM, 32)}"


def gitlab(R):
    p = R.choice(["glpat", "glpat", "gldt", "glrt", "glsoat", "glffct", "glft", "gloas", "glptt", "GR1348941"])
    if p == "glptt":
        return "glptt-" + _s(R, HEX, 40)
    if p == "gloas":
        return "gloas-" + _s(R, B64U, 64)
    if p == "GR1348941":
        return "GR1348941" + _s(R, B64U, 20)
    if p == "glpat" and R.random() < 0.5:
        return "glpat-" + _s(R, B64U, 36) + ".01." + _s(R, "abcdefghijklmnopqrstuvwxyz0123456789", 9)
    return f"{p}-" + _s(R, B64U, 20)


def azure(R):
    if R.random() < 0.6:
        key = _s(R, B64, 86) + "=="
        text = f"DefaultEndpointsProtocol=https;AccountName=acme{R.randint(1, 99)};AccountKey={key};EndpointSuffix=core.windows.net"
    else:
        key = _s(R, B64, 43) + "="
        text = f"Endpoint=sb://acme{R.randint(1, 99)}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={key}"
    return text


def gcp_sa(R):
    doc = {"type": "service_account", "project_id": f"acme-{R.randint(100, 999)}",
           "private_key_id": _s(R, HEX, 40),
           "client_email": f"bot@acme-{R.randint(100, 999)}.iam.gserviceaccount.com",
           "client_id": str(R.randint(10**20, 10**21))}
    return json.dumps(doc)


def pgp_block(R, json_escaped):
    body = base64.b64encode(bytes(R.getrandbits(8) for _ in range(96))).decode()
    nl = "\\n" if json_escaped else "\n"
    return nl.join(["-----BEGIN PGP PRIVATE KEY BLOCK-----", "", body[:64], body[64:], "=" + _s(R, B64, 4),
                    "-----END PGP PRIVATE KEY BLOCK-----"])


def slack_family(R):
    d = lambda n: str(R.randint(10 ** (n - 1), 10 ** n - 1))
    kind = R.choice(["xoxc", "xoxp", "xoxs", "xoxe", "xoxe.xoxp", "xapp", "xoxa", "xoxr"])
    if kind == "xoxc":
        return f"xoxc-{d(11)}-{d(12)}-{d(13)}-{_s(R, HEX, 64)}"
    if kind == "xapp":
        return f"xapp-1-A{_s(R, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}-{d(13)}-{_s(R, HEX, 64)}"
    if kind == "xoxe.xoxp":
        return "xoxe.xoxp-1-" + _s(R, ALNUM, 163)
    if kind == "xoxe":
        return "xoxe-1-" + _s(R, ALNUM, 146)
    return f"{kind}-{d(11)}-{d(12)}-{d(12)}-{_s(R, HEX, 32)}"


def positives(R, place, digits):
    # R's state is put back at the end: the rows other generators draw after these stay
    # the same (a shifted stream turned a version-string negative into a valid IPv4 address).
    state = R.getstate()
    out = _positives(R, place, digits)
    R.setstate(state)
    return out


def _positives(R, place, digits):
    out = []

    def add(kind, make, key, n=40):
        for _ in range(n):
            v = make()
            out.append({"text": place(v, key), "expect": [kind]})

    add("openai_api_key", lambda: openai(R), "OPENAI_API_KEY")
    add("anthropic_api_key", lambda: anthropic(R), "api key")
    add("openrouter_api_key", lambda: "sk-or-v1-" + _s(R, HEX, 64), "key")
    add("google_api_key", lambda: "AIza" + _s(R, B64U, 35), "apiKey")
    add("groq_api_key", lambda: "gsk_" + _s(R, ALNUM, 52), "GROQ_API_KEY")
    add("huggingface_token", lambda: R.choice(["hf_", "hf_", "api_org_"]) + _s(R, ALNUM, 34), "HF_TOKEN")
    add("xai_api_key", lambda: "xai-" + _s(R, ALNUM, 80), "XAI_API_KEY")
    add("perplexity_api_key", lambda: "pplx-" + _s(R, ALNUM, 48), "token")
    add("replicate_api_token", lambda: "r8_" + _s(R, B64U, 37), "REPLICATE_API_TOKEN")
    add("slack_webhook_url", lambda: slack_webhook(R), "webhook")
    add("gitlab_token", lambda: gitlab(R), "token")
    add("npm_token", lambda: crc_token(R, "npm_"), "_authToken")
    add("pypi_token", lambda: "pypi-AgEIcHlwaS5vcmc" + _s(R, B64U, R.randint(60, 180)), "password")
    add("stripe_key", lambda: R.choice(["sk_live_", "sk_test_", "rk_live_", "rk_test_"]) + _s(R, ALNUM, R.choice([24, 99])), "stripe key")
    add("twilio_api_key", lambda: "SK" + _s(R, HEX, 32), "api key sid")
    add("sendgrid_api_key", lambda: "SG." + _s(R, B64U, 22) + "." + _s(R, B64U, 43), "SENDGRID_API_KEY")
    add("discord_token", lambda: discord(R), "DISCORD_TOKEN")
    add("slack_token", lambda: slack_family(R), "token", 30)
    # Values that sit in a larger syntax: the connection string, the key file.
    for _ in range(40):
        out.append({"text": R.choice([azure(R), json.dumps({"conn": azure(R)}), f"export AZURE_STORAGE_CONNECTION_STRING=\"{azure(R)}\""]),
                    "expect": ["azure_storage_key"]})
    for _ in range(40):
        doc = gcp_sa(R)
        # The key file's client_email is an e-mail address too.
        out.append({"text": R.choice([doc, json.dumps({"credentials": doc})]), "expect": ["gcp_service_account", "email"]})
    for _ in range(15):
        esc = R.random() < 0.5
        v = pgp_block(R, esc)
        out.append({"text": json.dumps({"key": v.replace("\\n", "\n")}) if esc else f"key:\n{v}\n", "expect": ["private_key"]})
    # Slack's xoxc-/xapp- through a JSON body, as an agent sends them.
    for _ in range(10):
        out.append({"text": json.dumps({"headers": {"Authorization": "Bearer " + slack_family(R)}}), "expect": ["slack_token"]})
    # GitHub tokens with valid checksums in prose and config.
    for _ in range(10):
        out.append({"text": f"GITHUB_TOKEN={crc_token(R, R.choice(['ghp_', 'ghs_', 'gho_']))}", "expect": ["github_token"]})
    out += _review_positives(R, place)
    return out


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jose(R, header, parts):
    """A compact JOSE value: the header's base64url, then `parts` random parts of the given
    byte lengths (0: an empty part)."""
    return ".".join([b64url(json.dumps(header).encode())] + [b64url(bytes(R.getrandbits(8) for _ in range(n))) for n in parts])


def _review_positives(R, place):
    """The shapes a tester found missed (issue 11, after review)."""
    out = []

    def add(kind, make, n, key="token"):
        for _ in range(n):
            out.append({"text": place(make(), key), "expect": [kind]})

    add("gitlab_token", lambda: "glpat--" + _s(R, B64U, 19), 5)
    add("gitlab_token", lambda: f"glrt-t{R.randint(1, 3)}_" + _s(R, B64U, 27) + ".01." + _s(R, "abcdefghijklmnopqrstuvwxyz0123456789", 9), 5)
    add("jwt", lambda: _jose(R, {"alg": "dir", "enc": "A256GCM"}, [0, 12, R.randint(100, 300), 16]), 6, "next-auth.session-token")
    for _ in range(6):
        t = _jose(R, {"alg": "HS256", "typ": "JWT"}, [40, 32])
        out.append({"text": R.choice([f"Use this token: {t}.", json.dumps({"msg": f"token {t}. Thanks"})]), "expect": ["jwt"]})
    add("github_token", lambda: f"ghs_{R.randint(10**5, 10**7)}_" + _jose(R, {"alg": "RS256", "typ": "JWT", "kid": _s(R, HEX, 8)}, [280, 256]), 6)
    add("slack_token", lambda: "xoxd-" + _s(R, ALNUM, 100) + "%2F" + _s(R, ALNUM, 60) + "%3D", 5, "d")
    add("stripe_key", lambda: "whsec_" + _s(R, ALNUM, 32), 6, "STRIPE_WEBHOOK_SECRET")
    add("pypi_token", lambda: "pypi-AgENdGVzdC5weXBpLm9yZw" + _s(R, B64U, R.randint(60, 180)), 5, "password")
    add("aws_access_key", lambda: R.choice(["ABIA", "ACCA"]) + _s(R, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), 5, "key id")
    add("discord_token", lambda: "https://ptb.discord.com/api/webhooks/" + str(R.randint(10**17, 10**18)) + "/" + _s(R, B64U, 68), 3, "webhook")
    for _ in range(6):
        key = _s(R, B64, 86) + "=="
        out.append({"text": R.choice([f"DefaultEndpointsProtocol=https;AccountName=acme;accountkey={key}",
                                      f"AccountName=acme; AccountKey = {key}",
                                      # PHP's json_encode escapes every slash.
                                      '{"cs":"AccountName=acme;AccountKey=' + key.replace("/", "\\/") + '"}']),
                    "expect": ["azure_storage_key"]})
    for _ in range(5):
        kid = _s(R, HEX, 40)
        out.append({"text": f"type: service_account\nproject_id: acme-{R.randint(100, 999)}\nprivate_key_id: {kid}\nclient_id: \"{R.randint(10**20, 10**21)}\"\n",
                    "expect": ["gcp_service_account"]})
    for _ in range(5):
        url = f"https://hooks.slack.com/services/T{_s(R, ALNUM.upper(), 10)}/B{_s(R, ALNUM.upper(), 10)}/{_s(R, ALNUM, 24)}"
        out.append({"text": '{"url":"' + url.replace("/", "\\/") + '"}', "expect": ["slack_webhook_url"]})
    for _ in range(5):
        body = base64.b64encode(bytes(R.getrandbits(8) for _ in range(144))).decode()
        head = R.choice(["Comment: Alice Lovelace <alice@example.org>", "Comment: test key for CI signing", "Version: GnuPG v2"])
        # The block is one value, redacted whole: an address in its armor header is part of it.
        expect = ["private_key"]
        out.append({"text": "\n".join(["-----BEGIN PGP PRIVATE KEY BLOCK-----", head, "", body[:64], body[64:128], body[128:],
                                        "=" + _s(R, B64, 4), "-----END PGP PRIVATE KEY BLOCK-----"]), "expect": expect})
    return out


def _review_negatives(R):
    """Look-alikes a tester found reported (issue 11, after review)."""
    fixed = [
        "github_pat_fine_grained_permissions: true", "let github_pat_expiration_notification_days = 7;",
        "Tokens look like glpat-prefixed-strings-20-chars and gldt-deploy-tokens-with-prefix",
        "variables: glpat-rotation-schedule-weekly2", "love you all, xoxo-jen-2024-04-01",
        '<div class="xoxb-btn-3xl-primary">', "def sk_test_ChargesAreRefundedOnCancel(self): pass",
        "it('sk_live_RejectsExpiredCardsWithoutRetry', () => {})",
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net",
        "trace MTIzNDU2Nzg5MDEyMzQ1Njc4.YWJjZG.ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx",
        "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 = None", "from transformers import hf_AutoTokenizerForCausalLanguage",
        "github_pat_scopes_and_expiration_policy_documentation_link", ".gldt-deploy-token-rotation-v2 { color: red }",
        "xoxp-settings-page-header-3", "-- comment --", "options: --glpat-mode --verbose",
    ]
    out = [{"text": t, "expect": []} for t in fixed]
    words = ["deploy", "token", "rotation", "schedule", "weekly", "prefix", "strings", "primary", "button", "header",
             "access", "scope", "read", "write", "api", "registry", "project", "group", "mirror", "runner"]
    for _ in range(24):
        kebab = "-".join(R.choice(words) for _ in range(R.randint(3, 5))) + R.choice(["", "2", "-v1", "-20"])
        prefix = R.choice(["glpat-", "gldt-", "glrt-", "xoxb-", "xoxp-", "xoxo-"])
        out.append({"text": R.choice([f"see {prefix}{kebab} in the docs", f'class="{prefix}{kebab}"', f"{prefix}{kebab}: true"]), "expect": []})
    camel = ["Charges", "Are", "Refunded", "On", "Cancel", "Returns", "Error", "When", "Customer", "Missing",
             "Handles", "Declined", "Payment", "Intent", "Creates", "Invoice", "For", "Subscription", "Model", "Sequence"]
    for _ in range(16):
        name = ""
        while len(name) < 26:
            name += R.choice(camel)
        prefix = R.choice(["sk_test_", "sk_live_", "hf_", "rk_test_"])
        out.append({"text": R.choice([f"def {prefix}{name}(self): pass", f"func Test{prefix}{name}(t *testing.T) {{}}"]), "expect": []})
    return out


def negatives(R, digits):
    out = []

    def add(make, n):
        for _ in range(n):
            out.append({"text": make(), "expect": []})

    placeholders = [
        "xoxb-your-bot-token-here", "xoxb-xxxxxxxxxxxx", "xoxp-XXXXXXXXXXXX-XXXXXXXXXXXX", "xapp-1-YOUR-APP-TOKEN",
        "AKIAIOSFODNN7EXAMPLE", "AKIAXXXXXXXXXXXXXXXX", "AKIA1234567890ABCDEF", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github_pat_YOUR_FINE_GRAINED_TOKEN_HERE",
        "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "sk-your-openai-key",
        "sk-ant-api03-your-key-here", "sk-ant-api03-" + "x" * 93 + "AA", "sk-or-v1-" + "0" * 64,
        "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "AIza_your_google_api_key_here",
        "gsk_your_groq_api_key_here", "gsk_" + "x" * 52, "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "hf_YOUR_HUGGING_FACE_TOKEN",
        "xai-" + "X" * 80, "pplx-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "r8_your_replicate_token",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/services/YOUR/WEBHOOK/URL", "glpat-xxxxxxxxxxxxxxxxxxxx", "glpat-your-token-goes-here",
        "npm_" + "x" * 36, "pypi-AgEIcHlwaS5vcmc...", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "sk_test_your_stripe_secret_key",
        "rk_live_1234567890abcdefghijklmn", "SK" + "0" * 32, "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "SG.your-sendgrid-api-key",
        "AccountKey=<your-storage-account-key>", "AccountKey=" + "A" * 86 + "==", "SharedAccessKey=REDACTED",
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n<your key>\n-----END PGP PRIVATE KEY BLOCK-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nYOUR_PRIVATE_KEY_HERE\n-----END OPENSSH PRIVATE KEY-----",
    ]
    add(lambda: R.choice([lambda v: json.dumps({"token": v}), lambda v: f"set it to {v} in .env",
                          lambda v: f"export TOKEN={v}"])(R.choice(placeholders)), 80)
    # Near misses: one character short or long, wrong alphabet, bad checksum.
    near = [
        lambda: "sk-" + _s(R, ALNUM, 48),  # no OpenAI marker
        lambda: "sk-proj-" + _s(R, B64U, 40),
        lambda: "sk-ant-api03-" + _s(R, B64U, 93) + "AB",
        lambda: "sk-ant-api03-" + _s(R, B64U, 90) + "AA",
        lambda: "sk-or-v1-" + _s(R, HEX, 63),
        lambda: "AIza" + _s(R, B64U, 34),
        lambda: "gsk_" + _s(R, ALNUM, 51),
        lambda: "hf_" + _s(R, ALNUM, 33),
        lambda: "xai-" + _s(R, ALNUM, 79),
        lambda: "pplx-" + _s(R, ALNUM, 47),
        lambda: "r8_" + _s(R, B64U, 36),
        lambda: "npm_" + _s(R, ALNUM, 36),  # checksum fails
        lambda: "ghp_" + _s(R, ALNUM, 36),  # checksum fails
        lambda: "glpat-" + _s(R, B64U, 12),
        lambda: "SK" + _s(R, HEX, 31),
        lambda: "SK" + _s(R, "ghijklmnopqrstuvwxyz", 32),
        lambda: "SG." + _s(R, B64U, 21) + "." + _s(R, B64U, 43),
        lambda: "sk_live_" + _s(R, ALNUM, 8),
        lambda: "AccountKey=" + _s(R, B64, 40),
        lambda: base64.b64encode(b"abcdefghijklmnopqr").decode() + "." + _s(R, B64U, 6) + "." + _s(R, B64U, 27),
        lambda: json.dumps({"private_key_id": _s(R, HEX, 40), "kid": "rsa"}),
    ]
    add(lambda: json.dumps({"value": R.choice(near)()}), 60)
    # Code and docs that mention the prefixes.
    code = [
        'const PREFIX = "sk-";', "from sklearn import svm  # pip install scikit-learn (sk-learn)",
        "if token.startswith('ghp_'): kind = 'classic'", "Tokens start with `ghp_` (classic) or `github_pat_`.",
        "let re = /xox[baprs]-[0-9a-zA-Z-]+/;", "// Slack tokens look like xoxb-… and xapp-…",
        "KEY_PREFIXES = ['sk-ant-', 'sk-proj-', 'gsk_', 'hf_', 'pplx-', 'xai-', 'r8_']",
        "npm_config_registry=https://registry.npmjs.org/", "See https://hooks.slack.com for incoming webhooks.",
        "glpat- tokens expire after 365 days", "pypi-publish: uses pypa/gh-action-pypi-publish@release/v1",
        "stripe.api_key = os.environ['STRIPE_SECRET_KEY']  # sk_live_...", "AccountKey=;AccountName=devstoreaccount1",
        "hf_hub_download(repo_id='bert-base-uncased', filename='config.json')", "join us on discord.com/invite/acme",
        "SELECT private_key_id FROM keys WHERE type = 'service_account'", "api_org_settings = load()",
        "xai-sdk==1.0.0 and pplx-api-client", "task_id = 'sk-learn-7'", "-----BEGIN PUBLIC KEY-----",
        "ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519", "SKU-1234-ABCD shipped", "SG.status = 'ok'",
    ]
    add(lambda: R.choice(code), 50)
    # Lookalikes from logs: ids, hashes, UUIDs with the same alphabets.
    add(lambda: R.choice([
        f"trace sk-{R.randint(1, 99)}-{R.randint(1000, 9999)} done",
        f"commit {_s(R, HEX, 40)} by gl-bot",
        f"request_id=req_{_s(R, ALNUM, 24)}",
        f"ch_{_s(R, ALNUM, 24)} charged",
        f"SKU{_s(R, HEX, 32)}",
        f"session.{_s(R, B64U, 24)}.{_s(R, B64U, 6)}",
        f"xoxo-hugs-and-kisses",
        f"{_s(R, HEX, 8)}-{_s(R, HEX, 4)}-4{_s(R, HEX, 3)}-a{_s(R, HEX, 3)}-{_s(R, HEX, 12)}",
    ]), 40)
    # R's state is put back: the rows other generators draw after these stay the same.
    state = R.getstate()
    out += _review_negatives(R)
    R.setstate(state)
    return out
