//! The custom detectors' tests: patterns, checksums, cues, and the first-byte reading
//! (`first_bytes`) against trying every position, with the two attack rounds of issue 15 in
//! their own modules. A child of `custom`, so that a test can take a detector's set away.

use super::*;

/// The first bytes as a sorted string, or `None`.
fn starts_of(pattern: &str) -> Option<String> {
    first_bytes(pattern).map(|set| {
        (0u8..=255)
            .filter(|&b| set[usize::from(b)])
            .map(char::from)
            .collect()
    })
}

/// The same detector, every position tried.
fn unfiltered(d: &CustomDetector) -> CustomDetector {
    let mut u = d.clone();
    u.starts = None;
    u
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

#[test]
fn first_bytes_of_plain_beginnings() {
    assert_eq!(starts_of(r"\bEMP-\d{6}\b").as_deref(), Some("E"));
    assert_eq!(starts_of(r"\b\d{12}\b").as_deref(), Some("0123456789"));
    assert_eq!(starts_of(r"(?i)acme-[a-z]{4}").as_deref(), Some("Aa"));
    assert_eq!(starts_of(r"[A-C_-]+x").as_deref(), Some("-ABC_"));
    assert_eq!(starts_of(r"^\s+id").as_deref(), Some("\t\n\u{b}\u{c}\r "));
    assert_eq!(starts_of(r"\$\d+").as_deref(), Some("$"));
    assert_eq!(starts_of(r"\b{start}K{2,}").as_deref(), Some("K"));
    assert_eq!(starts_of(r"[]a]b").as_deref(), Some("]a"));
    assert_eq!(starts_of(r"[\w]z").map(|s| s.len()), Some(63));
    // Not plain: every position is tried.
    for p in [
        r"a|b",
        r"(a)b",
        r"(?:ab)",
        r".x",
        r"[^a]b",
        r"a?b",
        r"a*b",
        r"a{0,3}b",
        r"(?x) a",
        r"(?i:a)",
        r"\Dx",
        r"\pL",
        r"[[:alpha:]]",
        r"[a&&b]",
        r"éa",
        r"\x41",
        r"\b",
        r"[a-\d]",
        r"[z-a]",
        r"x{,3}",
    ] {
        assert_eq!(starts_of(p), None, "{p}");
    }
    // Verbose mode set later can hide a top-level `|` in what reads as a class.
    assert_eq!(starts_of("a(?x)# [\n|b"), None);
    assert!(CustomDetector::compile("a(?x)# [\n|b", None, &[])
        .unwrap()
        .regex
        .is_match("b"));
    // An alternation inside a group or a class leaves the beginning plain.
    assert_eq!(starts_of(r"Z(a|b)").as_deref(), Some("Z"));
    assert_eq!(starts_of(r"Z[|]").as_deref(), Some("Z"));
}

/// The prefilter finds exactly what trying every position finds.
#[test]
fn the_prefilter_changes_no_match() {
    let patterns = [
        r"\bEMP-\d{6}\b",
        r"\b\d{4}\b",
        r"(?i)acme-[a-z0-9]{3}",
        r"[A-C_-]+\d",
        r"\$\d+(\.\d\d)?",
        r"^\s+id:\w+",
        r"\Bx\d",
        r"a+b",
    ];
    let alphabet = b"EMP-0123456789 acmeACME_xyzB$.:\n\tid\xc3\xa9ab";
    let mut x: u32 = 0x1234_5678;
    for pattern in patterns {
        let with = CustomDetector::compile(pattern, None, &[]).unwrap();
        assert!(with.starts.is_some(), "{pattern}");
        let mut without = with.clone();
        without.starts = None;
        for _ in 0..400 {
            let mut t = Vec::new();
            for _ in 0..(x % 90) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                t.push(alphabet[(x as usize) % alphabet.len()]);
            }
            let (mut a, mut b) = (Vec::new(), Vec::new());
            with.find(&t, 0..t.len(), |r| a.push(r));
            without.find(&t, 0..t.len(), |r| b.push(r));
            let plain: Vec<_> = std::str::from_utf8(&t)
                .map(|s| {
                    Regex::new(pattern)
                        .unwrap()
                        .find_iter(s)
                        .map(|m| m.range())
                        .collect()
                })
                .unwrap_or_else(|_| b.clone());
            assert_eq!(a, b, "{pattern} {:?}", String::from_utf8_lossy(&t));
            assert_eq!(b, plain, "{pattern} {:?}", String::from_utf8_lossy(&t));
        }
    }
}

fn find(d: &CustomDetector, t: &str) -> Vec<String> {
    let mut out = Vec::new();
    d.find(t.as_bytes(), 0..t.len(), |r| {
        out.push(t.get(r).unwrap().to_string())
    });
    out
}

#[test]
fn patterns_checksums_cues() {
    let d = CustomDetector::compile(r"\bEMP-\d{6}\b", None, &[]).unwrap();
    assert_eq!(find(&d, "ids EMP-123456 and EMP-12345"), vec!["EMP-123456"]);
    let luhn = CustomDetector::compile(r"\b\d{10}\b", Some(Checksum::Luhn), &[]).unwrap();
    assert_eq!(find(&luhn, "7992739875 7992739872"), vec!["7992739875"]);
    assert_eq!(find(&luhn, "0079927398713"), Vec::<String>::new());
    let cued = CustomDetector::compile(r"\b\d{8}\b", None, &["Member".into()]).unwrap();
    let far = format!("member id 12345678; {} order 87654321", "-".repeat(60));
    assert_eq!(find(&cued, &far), vec!["12345678"]);
}

#[test]
fn bad_patterns_are_errors() {
    assert!(CustomDetector::compile("(", None, &[]).is_err());
    assert!(CustomDetector::compile("a*", None, &[])
        .unwrap_err()
        .contains("empty"));
    assert!(CustomDetector::compile(&"(".repeat(40).to_string(), None, &[]).is_err());
    let huge = r"\w{1000}".repeat(100);
    assert!(CustomDetector::compile(&huge, None, &[]).is_err());
}

#[test]
fn invalid_utf8_and_long_segments() {
    let d = CustomDetector::compile(r"SECRET-\d+", None, &[]).unwrap();
    let mut t = b"\xff\xfe SECRET-42 ".to_vec();
    t.extend_from_slice(&vec![b'x'; MAX_SEGMENT * 2]);
    t.extend_from_slice(b" SECRET-7");
    let mut got = Vec::new();
    d.find(&t, 0..t.len(), |r| got.push(r));
    assert_eq!(got.len(), 2);
    assert_eq!(&t[got[0].clone()], b"SECRET-42");
}

/// Attacks on the prefilter of 9d7564b (`first_bytes` and the `find_at` loop): inputs where
/// `CustomDetector::find` with its prefilter finds other matches than without it, than the
/// `find_iter` loop it replaced, or than `regex-lite`'s own `find_iter`. The `finding_*` tests
/// are what the attack round found; each comment says how the first reading went wrong, and
/// the reading now gives no set (every position tried) for each of those constructs.
mod prefilter_attack {
    use super::*;

    /// `find` as it was before 9d7564b: `find_iter` over each valid UTF-8 run of each piece.
    fn old_find(d: &CustomDetector, t: &[u8], segment: Range<usize>) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let cues: Vec<&str> = d.cues.iter().map(String::as_str).collect();
        let mut start = segment.start;
        while start < segment.end {
            let stop = (start + MAX_SEGMENT).min(segment.end);
            let piece = &t[start..stop];
            let mut offset = start;
            for chunk in piece.utf8_chunks() {
                let valid = chunk.valid();
                for m in d.regex.find_iter(valid) {
                    let span = offset + m.start()..offset + m.end();
                    if d.accepts(m.as_str()) && (cues.is_empty() || has_cue(t, span.start, &cues)) {
                        out.push(span);
                    }
                }
                offset += valid.len() + chunk.invalid().len();
            }
            start = stop;
        }
        out
    }

    fn new_find(d: &CustomDetector, t: &[u8]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        d.find(t, 0..t.len(), |r| out.push(r));
        out
    }

    fn non_empty(v: &[Range<usize>]) -> Vec<Range<usize>> {
        v.iter().filter(|r| !r.is_empty()).cloned().collect()
    }

    /// The matches with the prefilter, without it, and of the old loop, on `t`.
    fn three(pattern: &str, t: &[u8]) -> [Vec<Range<usize>>; 3] {
        let with = CustomDetector::compile(pattern, None, &[]).unwrap();
        let without = unfiltered(&with);
        [
            new_find(&with, t),
            new_find(&without, t),
            old_find(&with, t, 0..t.len()),
        ]
    }

    // ---- Findings: each a pattern and a text on which the first reading's prefilter missed
    // ---- what the old loop found. Fixed; each pins that it stays fixed.

    /// Asserts the prefilter finds what the old loop found, with a readable message.
    fn assert_same(pattern: &str, text: &str) {
        let [with, without, old] = three(pattern, text.as_bytes());
        let show = |v: &[Range<usize>]| -> Vec<String> {
            v.iter()
                .map(|r| format!("{r:?}={:?}", text.get(r.clone())))
                .collect()
        };
        assert_eq!(
            show(&with),
            show(&old),
            "pattern {pattern:?} on {text:?}: first_bytes = {:?}; without the prefilter {:?}",
            starts_of(pattern),
            show(&without)
        );
    }

    /// `[\--z]` is the range `-`..=`z` (`regex-lite` takes an escaped literal as a range's
    /// start): `first_bytes` reads `\-` as a single `-`, then `-z` as the literals `-` and
    /// `z`, so its set is `{-, z}` and every match starting with a digit, a capital, `.` ...
    /// is skipped.
    #[test]
    fn finding_escaped_range_start_in_a_class() {
        assert_same(r"[\--z]+@corp", "id 42@corp");
        assert_same(r"[\.-9]{6}", "pin 123456");
        assert_same(r"[\!-~]{8}-KEY", "token s3cr3tPW-KEY");
    }

    /// `[]-a]`: `regex-lite` takes a leading `]` as a literal and never as a range start, so
    /// the class is `]`, `-`, `a`; `first_bytes` reads `]-a` as the range `]`..=`a`, which
    /// leaves `-` out.
    #[test]
    fn finding_leading_bracket_then_dash() {
        assert_same(r"[]-a]\d{4}", "ref -1234");
        assert_same(r"[]-~]+SSN\d{9}", "--SSN123456789");
    }

    /// A repetition applies to the last item of the concatenation, and that may itself be a
    /// repetition: `a+*`, `a+??`, `a{1}{0}`, `\d{2}?` ... `first_bytes` only looks at the
    /// first quantifier, so the atom looks mandatory when it is not.
    #[test]
    fn finding_stacked_repetition() {
        assert_same(r"x+*SECRET-\d+", "SECRET-42");
        assert_same(r"x+??SECRET-\d+", "SECRET-42");
        assert_same(r"x{2}{0}SECRET-\d+", "SECRET-42");
        assert_same(r"\s{1}*SECRET-\d+", "SECRET-42");
        assert_same(r"(?i)x+*SECRET-\d+", "secret-42");
    }

    /// A flag directive `(?flags)` adds nothing to the concatenation, so a quantifier after it
    /// applies to the atom before it: `a(?i)*b` is `a*b`, `a(?x) ?b` is `a?b`.
    #[test]
    fn finding_quantifier_after_a_flag_directive() {
        assert_same(r"#(?u)?EMP-\d{6}", "EMP-123456");
        assert_same(r"x(?i)*acme-\d+", "ACME-7");
        assert_same(r"x(?x) {0} EMP-\d{6}", "EMP-123456");
        assert_same(r"\d(?s)?-KEY", "-KEY");
    }

    /// In verbose mode (`(?x)` after the first atom) `#` starts a comment that runs to the end
    /// of the line; a `(` or `[` in it makes `has_top_level_alternation` think the `|` that
    /// follows is inside a group or class.
    #[test]
    fn finding_alternation_hidden_by_a_verbose_comment() {
        assert_same(
            "EMP(?x)-\\d{6}  # employee id (old format\n | SSN-\\d{9}",
            "SSN-123456789",
        );
        assert_same("a(?x)#[\n|b", "b");
        assert_same("a(?x:#(\n)|b", "b");
    }

    /// Not a miss but a change from the old `find_iter` loop, with or without the prefilter,
    /// for patterns that can match empty text somewhere (they pass `compile`'s check, which
    /// only tries ""): an empty match right where a non-empty one ends is now emitted
    /// (`find_iter` skips it), and an empty match at the end of a valid run is no longer
    /// emitted (`while at < valid.len()`). `a*\b` on `aa b`: old `0..2, 3..3, 4..4`, now
    /// `0..2, 2..2, 3..3`; `\b\w*` on `ab cd`: old `0..2, 3..5`, now `0..2, 2..2, 3..5`.
    #[test]
    fn finding_empty_match_after_a_match() {
        let [with, without, old] = three(r"a*\b", b"aa b");
        assert_eq!(old, vec![0..2, 3..3, 4..4]);
        assert_eq!(with, without);
        let [with2, _, old2] = three(r"\b\w*", b"ab cd");
        assert_eq!(old2, vec![0..2, 3..5]);
        assert_eq!((with, with2), (old, old2));
    }

    // ---- Properties that hold: pinned.

    /// Corners `first_bytes` gets right (conservatively or exactly).
    #[test]
    fn corners_read_right() {
        for p in [
            r"(?x) a",
            r"(?ix)a",
            r"(?i)(?x)a",
            r"(?i-x)a",
            r"^(?i)a",
            r"(?i:a)",
            r"\ a",
            r"\ta",
            r"\x41",
            r"\u0041",
            r"\U00000041",
            r"\x{41}",
            r"\a",
            r"\0",
            r"a{,3}b",
            r"a{ 1}b",
            r"a{ 0 }b",
            r"a{0}b",
            r"a{00}b",
            r"a{0,}b",
            r"\b?a",
            r"^*a",
            r"\B{0}a",
            r"[[:alpha:]]",
            r"[a[:digit:]]",
            r"[--a]",
            r"[a-z&&b]",
            r"[é]",
            r"[a-é]",
            r"[\x41-Z]",
            r"[\t]",
            r"[^a]",
            r"é",
            r"\é",
            r"\p{L}",
            r"\b{start}",
            r"\b{",
            r"\",
            r"[",
            r"[a",
            r"(?i)",
            r"",
        ] {
            // None of these may give a set too narrow; most give none at all.
            if let Some(s) = starts_of(p) {
                panic!("{p:?} gave {s:?}");
            }
        }
        assert_eq!(starts_of(r"]").as_deref(), Some("]"));
        assert_eq!(starts_of(r"[]]x").as_deref(), Some("]"));
        assert_eq!(starts_of(r"[]-]x").as_deref(), Some("-]"));
        assert_eq!(starts_of(r"[-a]x").as_deref(), Some("-a"));
        assert_eq!(starts_of(r"[a-]x").as_deref(), Some("-a"));
        assert_eq!(starts_of(r"[a-b-c]x").as_deref(), Some("-abc"));
        assert_eq!(starts_of(r"(?i)[Z-a]").as_deref(), Some("AZ[\\]^_`az"));
        assert_eq!(starts_of(r"(?i)k").as_deref(), Some("Kk"));
        assert_eq!(starts_of(r"\b{5}x").as_deref(), Some("x"));
        assert_eq!(starts_of(r"\<\>\b{end-half}#").as_deref(), Some("#"));
        assert_eq!(starts_of(r"x{01}").as_deref(), Some("x"));
        assert_eq!(starts_of(r"x{1}?").as_deref(), Some("x"));
        assert_eq!(starts_of(r"x+?").as_deref(), Some("x"));
        // `(?i)` is ASCII-only in regex-lite: no Kelvin sign or long s for `k` and `s`.
        assert_same(r"(?i)k\d", "\u{212A}1 k2");
        assert_same(r"(?i)s\d", "\u{17F}1 S2");
    }

    /// `first_bytes` returns on any string, with only ASCII bytes in its set.
    #[test]
    fn first_bytes_never_panics() {
        let meta: &[&str] = &[
            "\\",
            "[",
            "]",
            "(",
            ")",
            "{",
            "}",
            "?",
            "*",
            "+",
            "|",
            "^",
            "$",
            "-",
            "&",
            "~",
            ":",
            "#",
            "\n",
            " ",
            ",",
            "0",
            "1",
            "9",
            "a",
            "b",
            "i",
            "x",
            "d",
            "w",
            "s",
            "A",
            "B",
            "<",
            ">",
            "é",
            "\u{212A}",
            "\u{10FFFF}",
        ];
        let check = |p: &str| {
            if let Some(set) = first_bytes(p) {
                assert!(set[128..].iter().all(|&b| !b), "{p:?}");
                assert!(set.iter().any(|&b| b), "{p:?}");
            }
        };
        // Every string of up to 3 of these pieces.
        check("");
        for a in meta {
            check(a);
            for b in meta {
                check(&format!("{a}{b}"));
                for c in meta {
                    check(&format!("{a}{b}{c}"));
                }
            }
        }
        // Random ones, up to 4 pieces after each prefix of interest.
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        for _ in 0..50_000 {
            let mut p = String::from(rng.pick(&["", "(?i)", "\\b", "^", "[", "\\b{", "(?i)["]));
            for _ in 0..rng.below(8) {
                p.push_str(rng.pick(meta));
            }
            check(&p);
        }
        // Arbitrary bytes, lossily decoded, and arbitrary chars.
        for _ in 0..20_000 {
            let bytes: Vec<u8> = (0..rng.below(12)).map(|_| rng.next() as u8).collect();
            check(&String::from_utf8_lossy(&bytes));
            let s: String = (0..rng.below(8))
                .filter_map(|_| char::from_u32(rng.next() as u32 % 0x11_0000))
                .collect();
            check(&s);
        }
    }

    // ---- The fuzz: patterns from a grammar of regex-lite syntax, random texts.

    const PREFIXES: &[&str] = &[
        "", "", "", "", "(?i)", "(?i)", "(?i)", "(?x)", "(?s)", "(?m)", "(?U)", "(?R)", "(?u)",
        "(?-i)", "(?i-x)", "(?im)", "(?i)(?x)", "(?x)(?i)", "(?i) ",
    ];
    const ASSERTIONS: &[&str] = &[
        "^",
        r"\A",
        r"\b",
        r"\B",
        r"\<",
        r"\>",
        r"\b{start}",
        r"\b{end}",
        r"\b{start-half}",
        r"\b{end-half}",
        r"\b{2}",
        r"\b{1,}",
        r"\b{0}",
        r"\z",
        "$",
        "(?m:^)",
        r"\b?",
    ];
    const LITERALS: &[&str] = &[
        "a", "b", "k", "s", "Z", "0", "7", "-", "_", " ", "#", "]", "&", "~", "<", ">", "@", "%",
        "!", "/", ":", "=", "\"", "'", "`", "\t", "é", "\u{212A}", "\u{17F}",
    ];
    const ESCAPES: &[&str] = &[
        r"\d",
        r"\w",
        r"\s",
        r"\D",
        r"\W",
        r"\S",
        r"\.",
        r"\-",
        r"\#",
        r"\&",
        r"\~",
        r"\]",
        r"\[",
        r"\\",
        r"\ ",
        r"\t",
        r"\n",
        r"\x41",
        r"\x{61}",
        r"\u0041",
        r"\U00000041",
        r"\a",
        r"\f",
        r"\v",
        r"\r",
        r"\%",
        r"\!",
        r"\/",
        r"\:",
        r"\@",
        r"\^",
        r"\$",
        r"\{",
        r"\}",
        r"\|",
        r"\(",
        r"\)",
        r"\*",
        r"\+",
        r"\?",
        r"\=",
        r"\_",
        r"\`",
        r"\'",
        r"\,",
    ];
    const OTHERS: &[&str] = &[
        ".", "(a|b)", "(?:x)", "(?i:a)", "(?P<n>a)", "(?<m>b)", "(a)", "(?s:.)", "(?:)",
    ];
    const CLASS_CHARS: &[&str] = &[
        "a", "b", "c", "k", "s", "z", "A", "K", "Z", "0", "5", "9", "_", " ", "!", "#", "&", "~",
        "]", "^", ".", "/", ":", "@", "`", "{", "|", "}", "(", ")", "*", "é", r"\-", r"\.", r"\!",
        r"\]", r"\[", r"\\", r"\^", r"\~", r"\&", r"\x41", r"\t", r"\n", r"\ ",
    ];
    const CLASS_ITEMS: &[&str] = &[
        r"\d",
        r"\w",
        r"\s",
        r"\D",
        r"\W",
        r"\S",
        "[:alpha:]",
        "[:digit:]",
        "[:^space:]",
        "[:punct:]",
        "&&",
        "--",
        "~~",
        "-",
        "[",
        "[a]",
    ];
    const QUANTIFIERS: &[&str] = &[
        "", "", "", "+", "+", "*", "?", "{0}", "{1}", "{2}", "{0,}", "{1,}", "{0,2}", "{1,3}",
        "{,2}", "{ 1}", "{1 }", "{ 0 }", "{01}", "{00}", "+?", "*?", "??", "{1}?", "{2,}?", "+*",
        "+?*", "+??", "{1}{0}", "{1}*", "{2}?{0}", "++", "*+", "{1}+", "{2}{3}", "+{0}",
    ];
    const GLUE: &[&str] = &[
        "",
        "",
        "",
        "",
        "",
        "",
        "(?i)",
        "(?x)",
        "(?x) ",
        "(?-x)",
        "(?u)",
        "(?s)",
        "(?U)",
        "(?x)#(\n",
        "(?x)#[\n",
        "(?x:#(\n)",
        "(?x)# (a\n",
        "(?i:)",
        "(?:)",
    ];
    const AFTER_GLUE: &[&str] = &["", "", "", "*", "?", "{0}", "{0,1}", " *", " ?", "+", "??"];
    const TAILS: &[&str] = &[
        "b", "b", r"\d", r"\d+", "[xy]", "(c|d)", "|b", "|", "x|y", "#", " ", "\n", r"\b", "$",
        "(?-i)q", ".", "a", "-", "7", "(?i)B", r"\s*", "[^a]", "é",
    ];

    fn class(rng: &mut Rng) -> String {
        let mut c = String::from("[");
        if rng.chance(20) {
            c.push('^');
        }
        if rng.chance(15) {
            c.push(']');
        }
        if rng.chance(10) {
            c.push('-');
        }
        for _ in 0..=rng.below(3) {
            match rng.below(10) {
                0..=3 => c.push_str(rng.pick(CLASS_CHARS)),
                4..=7 => {
                    c.push_str(rng.pick(CLASS_CHARS));
                    c.push('-');
                    c.push_str(rng.pick(CLASS_CHARS));
                }
                _ => c.push_str(rng.pick(CLASS_ITEMS)),
            }
        }
        if rng.chance(10) {
            c.push('-');
        }
        c.push(']');
        c
    }

    /// One pattern of the grammar; `known` = also the constructs of the findings above.
    fn pattern(rng: &mut Rng, known: bool) -> String {
        let mut p = String::from(rng.pick(PREFIXES));
        for _ in 0..rng.below(3) {
            if rng.chance(40) {
                p.push_str(rng.pick(ASSERTIONS));
            }
        }
        match rng.below(10) {
            0..=3 => p.push_str(rng.pick(LITERALS)),
            4..=5 => p.push_str(rng.pick(ESCAPES)),
            6..=8 => p.push_str(&class(rng)),
            _ => p.push_str(rng.pick(OTHERS)),
        }
        p.push_str(rng.pick(QUANTIFIERS));
        if rng.chance(30) {
            p.push_str(rng.pick(GLUE));
            p.push_str(rng.pick(AFTER_GLUE));
        }
        for _ in 0..rng.below(4) {
            p.push_str(rng.pick(TAILS));
        }
        if !known && is_known_finding(&p) {
            return String::new();
        }
        p
    }

    /// Whether `p` has a construct of one of the findings (so that the passing fuzz can run
    /// on the rest of the grammar).
    fn is_known_finding(p: &str) -> bool {
        let b = p.as_bytes();
        // A flag directive before a quantifier (it is transparent to it).
        Regex::new(r"\(\?[-a-zA-Z]*\)\s*[*+?{]").unwrap().is_match(p)
            // Verbose mode and a comment: `(`, `[` in it hide a `|`.
            || p.contains("(?x") && p.contains('#')
            || has_stacked_repetition(b)
            // An escaped range start or a leading `]` before `-` in a class.
            || b.windows(4).any(|w| w[0] == b'\\' && w[2] == b'-' && w[3] != b']')
            || p.contains("[]-")
            || p.contains("[^]-")
    }

    /// A quantifier (with its lazy `?`) right after another, outside classes and escapes.
    fn has_stacked_repetition(p: &[u8]) -> bool {
        let (mut i, mut in_class, mut after_quantifier) = (0, false, false);
        while let Some(&c) = p.get(i) {
            let quantifier_end = match c {
                b'\\' => {
                    i += 2;
                    after_quantifier = false;
                    continue;
                }
                b'[' if !in_class => {
                    in_class = true;
                    i += 1;
                    // A `]` right after `[` or `[^` is a literal.
                    if p.get(i) == Some(&b'^') {
                        i += 1;
                    }
                    if p.get(i) == Some(&b']') {
                        i += 1;
                    }
                    after_quantifier = false;
                    continue;
                }
                b']' if in_class => {
                    in_class = false;
                    i += 1;
                    after_quantifier = false;
                    continue;
                }
                _ if in_class => {
                    i += 1;
                    continue;
                }
                b'*' | b'+' | b'?' => Some(i + 1),
                b'{' => p[i..].iter().position(|&b| b == b'}').map(|n| i + n + 1),
                _ => None,
            };
            match quantifier_end {
                Some(end) => {
                    if after_quantifier {
                        return true;
                    }
                    i = end + usize::from(p.get(end) == Some(&b'?'));
                    after_quantifier = true;
                }
                None => {
                    i += 1;
                    after_quantifier = false;
                }
            }
        }
        false
    }

    #[test]
    fn stacked_repetitions_are_told() {
        for p in ["a+*", "a+??", "a{1}{0}", "a{1}?*", "a*+", "a???"] {
            assert!(has_stacked_repetition(p.as_bytes()), "{p}");
        }
        for p in ["a+?", "a??", "a{1}?b*", r"\+*", "[+]*", "[]+]*", "a*?b+?"] {
            assert!(!has_stacked_repetition(p.as_bytes()), "{p}");
        }
    }

    fn text(rng: &mut Rng, pattern: &str) -> Vec<u8> {
        const ANY: &[&str] = &[
            "a", "b", "k", "K", "s", "S", "x", "y", "z", "A", "B", "Z", "0", "1", "5", "7", "9",
            "-", "_", " ", " ", "\t", "\n", "\r", "\u{b}", "#", "]", "[", "&", "~", "<", ">", "@",
            "%", "!", "/", ":", "=", ".", "^", "$", "`", "'", "\"", "|", "(", ")", "{", "}", "*",
            "+", "?", "\\", "é", "\u{212A}", "\u{17F}", "😀",
        ];
        let from_pattern: Vec<char> = pattern.chars().collect();
        let mut t = Vec::new();
        for _ in 0..rng.below(24) {
            match rng.below(20) {
                0..=9 => {
                    let mut buf = [0u8; 4];
                    let c = rng.pick(&from_pattern);
                    t.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                10..=18 => t.extend_from_slice(rng.pick(ANY).as_bytes()),
                // Invalid UTF-8: a stray continuation byte, a cut sequence, 0xFF.
                _ => t.extend_from_slice(rng.pick(&[&b"\x80"[..], b"\xc3", b"\xff", b"\xe2\x84"])),
            }
        }
        t
    }

    /// Runs `patterns` patterns; returns (patterns with a set, texts run, discrepancies).
    fn fuzz(seed: u64, patterns: usize, known: bool) -> (usize, usize, Vec<String>) {
        let mut rng = Rng(seed);
        let (mut with_set, mut texts, mut bad) = (0, 0, Vec::new());
        let mut tried = 0;
        while with_set < patterns && tried < patterns * 50 {
            tried += 1;
            let p = pattern(&mut rng, known);
            if p.is_empty() {
                continue;
            }
            let Ok(with) = CustomDetector::compile(&p, None, &[]) else {
                continue;
            };
            if with.starts.is_none() {
                continue;
            }
            with_set += 1;
            let without = unfiltered(&with);
            for _ in 0..120 {
                let t = text(&mut rng, &p);
                texts += 1;
                let a = new_find(&with, &t);
                let b = new_find(&without, &t);
                let old = old_find(&with, &t, 0..t.len());
                let plain: Option<Vec<_>> = std::str::from_utf8(&t)
                    .ok()
                    .map(|s| with.regex.find_iter(s).map(|m| m.range()).collect());
                let wrong = a != b
                    || non_empty(&b) != non_empty(&old)
                    || plain
                        .as_ref()
                        .is_some_and(|pl| non_empty(pl) != non_empty(&a));
                if wrong {
                    bad.push(format!(
                        "{p:?} on {:?}: with {a:?} without {b:?} old {old:?} (set {:?})",
                        String::from_utf8_lossy(&t),
                        starts_of(&p)
                    ));
                    break;
                }
            }
        }
        (with_set, texts, bad)
    }

    /// The whole grammar, the findings' constructs included: lists what differs.
    #[test]
    fn fuzz_whole_grammar() {
        // IATP_FUZZ_PATTERNS=n for a longer run (the attack round ran 6,000).
        let patterns: usize = std::env::var("IATP_FUZZ_PATTERNS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_500);
        let (n, texts, bad) = fuzz(0x0dd_ba11_cafe_f00d, patterns, true);
        eprintln!(
            "{n} patterns with a set, {texts} texts, {} differ",
            bad.len()
        );
        for b in bad.iter().take(80) {
            eprintln!("  {b}");
        }
        // Each difference is one of the findings' constructs.
        let unexplained: Vec<_> = bad
            .iter()
            .filter(|b| {
                let p: String = serde_json::from_str(b.split(" on ").next().unwrap()).unwrap();
                !is_known_finding(&p)
            })
            .collect();
        eprintln!("{} not explained by a known finding", unexplained.len());
        for b in &unexplained {
            eprintln!("  {b}");
        }
        assert!(bad.is_empty());
    }

    /// The grammar without the findings' constructs: the prefilter changes no match.
    #[test]
    fn fuzz_without_the_known_findings() {
        // IATP_FUZZ_SEEDS=n for a longer run.
        let seeds: u64 = std::env::var("IATP_FUZZ_SEEDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        for seed in (1..=seeds).map(|s| s.wrapping_mul(0x9e37_79b9_7f4a_7c15)) {
            let (n, texts, bad) = fuzz(seed, 1_000, false);
            assert!(n >= 750, "only {n} patterns with a set");
            assert!(texts >= n * 100);
            assert!(
                bad.is_empty(),
                "{} differ, e.g.\n{}",
                bad.len(),
                bad[..bad.len().min(20)].join("\n")
            );
        }
    }

    /// Long texts: segments cut at `MAX_SEGMENT`, in the middle of multi-byte characters,
    /// matches across a cut; with, without and the old loop agree.
    #[test]
    fn long_texts_and_cuts() {
        let patterns = [
            r"\bEMP-\d{6}\b",
            r"(?i)acme-[a-z0-9]{3}",
            r"[A-C_-]+\d",
            r"é?x\d",
            r"\d{4}",
            r"^\w+",
            r"\B\d\d",
            r"\s+\S",
        ];
        let mut rng = Rng(77);
        for p in patterns {
            let with = CustomDetector::compile(p, None, &[]).unwrap();
            let without = unfiltered(&with);
            for _ in 0..40 {
                let mut t = Vec::new();
                let len = MAX_SEGMENT * (1 + rng.below(3)) + rng.below(9) - 4;
                while t.len() < len {
                    let piece: &[u8] = rng.pick(&[
                        &b"EMP-123456 "[..],
                        b"acme-x9z",
                        b"\xc3\xa9",
                        b"\xf0\x9f\x98\x80",
                        b"x1",
                        b"AB_-7",
                        b" ",
                        b"\xff",
                        b"1234",
                        b"a",
                    ]);
                    t.extend_from_slice(piece);
                }
                // A segment that starts inside, too.
                let from = rng.below(8);
                let (mut a, mut b) = (Vec::new(), Vec::new());
                with.find(&t, from..t.len(), |r| a.push(r));
                without.find(&t, from..t.len(), |r| b.push(r));
                let old = old_find(&with, &t, from..t.len());
                assert_eq!(a, b, "{p}");
                assert_eq!(non_empty(&b), non_empty(&old), "{p}");
            }
        }
    }
}

/// Review round of issue 15 (i15-review): inputs the attack round did not write, against the
/// prefilter (`first_bytes`, `has_top_level_alternation` and the `find_at` loop). The oracle
/// is `regex-lite`'s own `find_iter` on the same text. The `finding_*` tests are what it found
/// (fixed: a class inside a class gives no set); the others pin what holds.
mod review_attack {
    use super::*;
    use crate::detect::{Decoding, Findings, Format, Kind, KindSet, Scanner};

    /// The matches of `d` on `t`, with its prefilter and without.
    fn with_and_without(d: &CustomDetector, t: &str) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
        let without = unfiltered(d);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        d.find(t.as_bytes(), 0..t.len(), |r| a.push(r));
        without.find(t.as_bytes(), 0..t.len(), |r| b.push(r));
        (a, b)
    }

    /// The prefilter finds what `regex-lite`'s own `find_iter` finds on `text` (short texts:
    /// one segment, valid UTF-8).
    fn assert_agrees(pattern: &str, text: &str) {
        let d = CustomDetector::compile(pattern, None, &[])
            .unwrap_or_else(|e| panic!("{pattern:?} does not compile: {e}"));
        let plain: Vec<_> = d.regex.find_iter(text).map(|m| m.range()).collect();
        let (with, without) = with_and_without(&d, text);
        assert_eq!(without, plain, "{pattern:?} on {text:?} (no prefilter)");
        assert_eq!(
            with,
            plain,
            "{pattern:?} on {text:?}: first_bytes = {:?}",
            starts_of(pattern)
        );
    }

    /// Every ASCII character (and a few others) as the first character of a match candidate,
    /// followed by each of `tails`, alone and after a space and a word character: the
    /// prefilter's set must hold the first byte of every match there is.
    fn assert_agrees_everywhere(pattern: &str, tails: &[&str]) {
        let mut firsts: Vec<String> = (0u8..128).map(|b| char::from(b).to_string()).collect();
        firsts.extend(["é", "\u{212A}", "\u{17F}", "😀"].map(String::from));
        for first in &firsts {
            for tail in tails {
                for before in ["", " ", "w", "\n"] {
                    assert_agrees(pattern, &format!("{before}{first}{tail}"));
                }
            }
        }
    }

    // ---- Findings.

    /// `regex-lite` reads a POSIX class (`[:alpha:]`) inside a bracket class, and the class
    /// goes on after it; `has_top_level_alternation` takes the POSIX class's `]` for the end
    /// of the class, so a `(` later in the same class counts as opening a group, and the
    /// top-level `|` after the class is taken for one inside that group. The pattern's first
    /// atom then gives a set, and every match of the other alternative (which starts with
    /// something else) is skipped. `a[[:alpha:](]|b` is `a[[:alpha:](]` or `b`: on `b`,
    /// `find_iter` finds `0..1`, the prefilter (set `{a}`) nothing. The second pattern is an
    /// operator's phone pattern: an international number, or a US one written `(555) 123-4567`
    /// (the `(` in the class is a character of a number written `+1 (555)...`); the US form
    /// is never found.
    #[test]
    fn finding_posix_class_in_a_class_hides_a_top_level_alternation() {
        assert_agrees(r"a[[:alpha:](]|b", "b");
        assert_agrees(r"a[^[:alpha:](]|b", "b");
        assert_agrees(r"x[a[:digit:]b(]|y", "y");
        assert_agrees(r"EMP-[[:digit:](]{6}|SSN-\d{9}", "SSN-123456789");
        assert_agrees(
            r"\+[[:digit:] (]+|\(\d{3}\) \d{3}-\d{4}",
            "call (555) 123-4567",
        );
    }

    /// The same, through the scanner a configuration builds: a JSON body holding the US form
    /// of the phone number passes unseen.
    #[test]
    fn finding_posix_class_alternation_missed_by_the_scanner() {
        let pattern = r"\+[[:digit:] (]+|\(\d{3}\) \d{3}-\d{4}";
        let custom = CustomDetector::compile(pattern, None, &[]).unwrap();
        // A class inside a class: no first-byte set (it was `+` before the fix).
        assert_eq!(starts_of(pattern), None);
        let mut unfiltered = custom.clone();
        unfiltered.starts = None;
        let body = br#"{"note":"call me at (555) 123-4567"}"#;
        let spans = |d: CustomDetector| {
            let scanner = Scanner::with_custom(
                KindSet::default().with(Kind::custom(0)),
                vec![("us_phone".into(), d)],
            );
            let mut f = Findings::default();
            let mut spans = Vec::new();
            scanner.scan_input(body, Decoding::default(), Format::Json, &mut f, |x| {
                spans.push(x.span)
            });
            spans
        };
        // Without the prefilter (every position tried), as before 9d7564b: found.
        assert_eq!(spans(unfiltered), vec![20..34]);
        assert_eq!(
            spans(custom),
            vec![20..34],
            "the prefilter skips (555) 123-4567"
        );
    }

    // ---- What holds: pinned.

    /// The POSIX finding's constructs without a `(` after the POSIX class, or without a
    /// top-level `|`, or with the POSIX class in the first atom: no set, or a right one.
    #[test]
    fn posix_classes_otherwise() {
        for p in [
            r"[[:digit:]]x",
            r"[a[:digit:]]x",
            r"[[:^alpha:]]x",
            r"x[[:digit:]]|y",
            r"x[[:alpha:])]|y",
            r"x[[:alpha:]()]|y",
            r"x[[:alpha:]|]|y",
            r"[[:digit:](]x|y",
        ] {
            assert_agrees_everywhere(p, &["", "x", "y", "1x", "(x", ")y"]);
        }
        // A class inside a class, anywhere: no set (the reading gives up).
        assert_eq!(starts_of(r"x[[:alpha:](]"), None);
        assert_eq!(starts_of(r"[[:alpha:]]x"), None);
    }

    /// `(?i)` with classes and ranges that span letters and other characters (regex-lite
    /// folds only the part of a range inside `a-z` or `A-Z`, and only ASCII: the set is
    /// never narrower than that).
    #[test]
    fn case_folding_with_mixed_ranges() {
        let tails = ["", "x", "X", "1", "-", "ab", "AB", "_9"];
        for p in [
            r"(?i)[Z-a]x",
            r"(?i)[Z-a]",
            r"(?i)[@-C]",
            r"(?i)[0-z]",
            r"(?i)[+-A]\d?",
            r"(?i)[_-z]{2}",
            r"(?i)[Y-b]+",
            r"(?i)[\w-]x",
            r"(?i)[-\d]a",
            r"(?i)[`-c]",
            r"(?i)[z-~]",
            r"(?i)[\[-a]",
            r"(?i)\b[k]",
            r"(?i)^\<[s-t]",
            r"(?i)[A-z]",
            r"(?i)k+",
        ] {
            assert_agrees_everywhere(p, &tails);
        }
        // regex-lite folds the letter part of `[Z-a]` only from `a`: `z` is not in its class,
        // and the set (which adds it) is wider, never narrower.
        assert_eq!(starts_of(r"(?i)[Z-a]").as_deref(), Some("AZ[\\]^_`az"));
        assert!(!Regex::new(r"(?i)[Z-a]").unwrap().is_match("z"));
    }

    /// Zero-width assertions before the first atom, every form regex-lite has.
    #[test]
    fn assertions_before_the_first_atom() {
        let tails = ["", "x", "xx", " x", "1"];
        for p in [
            r"\b{start}x",
            r"\b{end}x",
            r"\b{start-half}x",
            r"\b{end-half}x",
            r"\b{ 2 }x",
            r"\b{2,}x",
            r"\b{1,3}x",
            r"\b{0}x",
            r"\<x",
            r"\>x",
            r"\Ax",
            r"^^x",
            r"^\bx",
            r"\B\Bx",
            r"\b{start}\b{end-half}x",
            r"(?i)^\<x",
            r"\b\<\b{start-half}[x-z]",
        ] {
            assert_agrees_everywhere(p, &tails);
        }
        // After an assertion that cannot be skipped plainly: no set.
        for p in [
            r"\z x",
            r"$x",
            r"\B{2}x",
            r"\b+x",
            r"^?x",
            r"(?m)^x",
            r"\b{start}?x",
        ] {
            if CustomDetector::compile(p, None, &[]).is_ok() {
                assert_eq!(starts_of(p), None, "{p}");
            }
        }
    }

    /// Escapes regex-lite reads specially (`\x`, `\u`, `\U`, `\n`, `\t`, `\a`, `\f`, `\v`,
    /// `\r`, an escaped space) give no set; escaped punctuation stands for itself.
    #[test]
    fn escapes_read_specially() {
        for p in [
            r"\x41b",
            r"\x{41}b",
            r"\u0041b",
            r"\U00000041b",
            r"\nb",
            r"\tb",
            r"\ab",
            r"\fb",
            r"\vb",
            r"\rb",
            r"\ b",
            r"[\x41]b",
            r"[\n]b",
            r"[\t-\r]b",
            r"[a\x41]b",
        ] {
            assert!(CustomDetector::compile(p, None, &[]).is_ok(), "{p}");
            assert_eq!(starts_of(p), None, "{p}");
        }
        let tails = ["", "b", "1b", " b"];
        for p in [
            r"\#b", r"\&b", r"\~b", r"\-b", r"\%b", r"\!b", r"\/b", r"\:b", r"\=b", r"\_b", r"\`b",
            r"\'b", r"\,b", r"\@b", r"\{b", r"\}b", r"\]b", r"\[b", r"\.b", r"\\b", r"\*b", r"\|b",
            r"\(b", r"\)b", r"\^b", r"\$b", r"\?b", r"\+b", r#"\"b"#,
        ] {
            assert!(starts_of(p).is_some(), "{p}");
            assert_agrees_everywhere(p, &tails);
        }
        // `\<` and `\>` are assertions, not `<` and `>`; in a class they are errors.
        assert_eq!(starts_of(r"\<b"), Some("b".into()));
        assert!(CustomDetector::compile(r"[\<]b", None, &[]).is_err());
        assert!(CustomDetector::compile(r"[\>]b", None, &[]).is_err());
    }

    /// Classes with escapes and with `-` at either edge, leading `-` runs, `]` first.
    #[test]
    fn classes_with_escapes_and_dashes() {
        let tails = ["", "x", "-x", "]x", "1"];
        let mut checked = 0;
        for p in [
            r"[\w-]x",
            r"[-\w]x",
            r"[\d.-]x",
            r"[-.\d]x",
            r"[a\-z]x",
            r"[-]x",
            r"[---]x",
            r"[-]]x",
            r"[--a]x",
            r"[a-]x",
            r"[!-/]x",
            r"[\--]x",
            r"[\]-]x",
            r"[\\-]x",
            r"[]-]x",
            r"[]]x",
            r"[\s\d]x",
            r"[\s-]x",
            r"[ -#]x",
            r"[#-&]x",
            r"[a-c-e]x",
            r"[-a-c]x",
            r"[\^-]x",
            r"[&-(]x",
            r"[~]x",
            r"[&]x",
            r"[\&\~]x",
            r"[\w\-\.]+@x",
        ] {
            if CustomDetector::compile(p, None, &[]).is_err() {
                continue;
            }
            checked += 1;
            assert_agrees_everywhere(p, &tails);
        }
        assert!(checked >= 24, "{checked}");
    }

    /// After the first atom: repetitions and flag groups that keep or drop it.
    #[test]
    fn after_the_first_atom() {
        let tails = ["", "b", "xb", "xxb"];
        for p in [
            r"x{1}b",
            r"x{01}b",
            r"x{1,}b",
            r"x{ 1 }b",
            r"x{1}?b",
            r"x+?b",
            r"x()*b",
            r"x(?:)*b",
            r"x(?i)b",
            r"x(?i:)*b",
            r"x(?-i)?b",
            r"x{1}(?u)+b",
            r"x(?s:)b",
        ] {
            if CustomDetector::compile(p, None, &[]).is_ok() {
                assert_agrees_everywhere(p, &tails);
            }
        }
    }

    // ---- A second fuzz: pieces of syntax in any order.

    /// Pieces of regex-lite syntax, put together in any order (most orders do not compile;
    /// those that do are kept): POSIX classes and parentheses inside classes, groups and
    /// alternations anywhere (not only after the first atom, as in the attack round's
    /// grammar), escapes regex-lite reads specially.
    const SOUP: &[&str] = &[
        "a",
        "b",
        "A",
        "Z",
        "k",
        "0",
        "9",
        "-",
        "_",
        " ",
        "#",
        "]",
        "&",
        "~",
        "@",
        "%",
        ":",
        "(",
        ")",
        "(?:",
        "(?i)",
        "(?-i)",
        "(?i:",
        "(?m)",
        "(?s)",
        "(?U)",
        "(?R)",
        "(?u)",
        "|",
        "|",
        "^",
        "$",
        ".",
        "*",
        "+",
        "?",
        "{0}",
        "{1}",
        "{2,}",
        "{0,1}",
        "{ 1 }",
        "??",
        "+?",
        r"\b",
        r"\B",
        r"\<",
        r"\>",
        r"\A",
        r"\z",
        r"\b{start}",
        r"\b{end}",
        r"\b{start-half}",
        r"\b{end-half}",
        r"\d",
        r"\w",
        r"\s",
        r"\D",
        r"\W",
        r"\S",
        r"\x41",
        r"\x{2d}",
        r"\u005D",
        r"\n",
        r"\t",
        r"\v",
        r"\f",
        r"\r",
        r"\a",
        r"\-",
        r"\]",
        r"\[",
        r"\(",
        r"\)",
        r"\|",
        r"\#",
        r"\ ",
        r"\.",
        r"\^",
        r"\$",
        "[a-z]",
        "[A-Z0-9]",
        "[-a]",
        "[a-]",
        "[]a]",
        "[^a]",
        "[[:alpha:]]",
        "[[:digit:](]",
        "[[:alpha:])]",
        "[x[:digit:]|]",
        "[[:^space:]]",
        "[[:punct:]]",
        "[(]",
        "[)]",
        "[|]",
        "[\\]]",
        "[\\-a]",
        "[a\\-]",
        "[[:alnum:]_(-]",
        "[[:upper:](]",
        "[",
        "]",
        "é",
        "\u{212A}",
    ];

    fn soup(rng: &mut Rng) -> String {
        let mut p = String::new();
        for _ in 0..1 + rng.below(7) {
            p.push_str(rng.pick(SOUP));
        }
        p
    }

    fn text(rng: &mut Rng, pattern: &str) -> String {
        const ANY: &[&str] = &[
            "a", "b", "k", "K", "A", "B", "Z", "z", "0", "1", "9", "-", "_", " ", "\t", "\n", "\r",
            "\u{b}", "\u{c}", "#", "]", "[", "&", "~", "@", "%", ":", "(", ")", "|", ".", "^", "$",
            "{", "}", "*", "+", "?", "\\", "é", "\u{212A}", "\u{7}", "!", "/",
        ];
        let chars: Vec<char> = pattern.chars().collect();
        let mut t = String::new();
        for _ in 0..rng.below(16) {
            if rng.below(2) == 0 {
                t.push(rng.pick(&chars));
            } else {
                t.push_str(rng.pick(ANY));
            }
        }
        t
    }

    /// A POSIX class inside a class, then a `(` before the class ends (the finding above).
    fn posix_class_then_paren(p: &str) -> bool {
        Regex::new(r"\[:\^?[a-z]+:\][^\]]*\(").unwrap().is_match(p)
    }

    /// Random concatenations of `SOUP`: the patterns (with a set) on which the prefilter
    /// finds other matches than `find_iter`, each with a text that shows it.
    fn soup_fuzz(seed: u64, patterns: usize, known: bool) -> (usize, Vec<String>) {
        let mut rng = Rng(seed);
        let (mut n, mut tried, mut bad) = (0, 0, Vec::new());
        while n < patterns && tried < patterns * 200 {
            tried += 1;
            let p = soup(&mut rng);
            if !known && posix_class_then_paren(&p) {
                continue;
            }
            let Ok(d) = CustomDetector::compile(&p, None, &[]) else {
                continue;
            };
            if d.starts.is_none() {
                continue;
            }
            n += 1;
            for _ in 0..200 {
                let t = text(&mut rng, &p);
                let plain: Vec<_> = d.regex.find_iter(&t).map(|m| m.range()).collect();
                let (with, _) = with_and_without(&d, &t);
                if with != plain {
                    bad.push(format!(
                        "{p:?} on {t:?}: set {:?}, with {with:?}, find_iter {plain:?}",
                        starts_of(&p)
                    ));
                    break;
                }
            }
        }
        (n, bad)
    }

    fn soup_patterns() -> usize {
        // IATP_SOUP_PATTERNS=n for a longer run (the review ran 40,000 of each).
        std::env::var("IATP_SOUP_PATTERNS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3_000)
    }

    /// Without the finding's construct, nothing differs.
    #[test]
    fn soup_without_the_posix_finding() {
        let (n, bad) = soup_fuzz(0x5eed_0002, soup_patterns(), false);
        assert!(n >= soup_patterns(), "only {n} patterns with a set");
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    /// With it, every difference is that construct (the review's run of 20,000: 19 differ,
    /// all of them).
    #[test]
    fn finding_soup_with_the_posix_construct() {
        // The review ran 20,000 (the construct is rare in random soup: 19 of them held it);
        // IATP_SOUP_PATTERNS for as many.
        let (_, bad) = soup_fuzz(0x5eed_0001, soup_patterns().max(5_000), true);
        let unexplained: Vec<_> = bad
            .iter()
            .filter(|b| !posix_class_then_paren(b.split(" on ").next().unwrap_or("")))
            .collect();
        assert!(unexplained.is_empty(), "{unexplained:?}");
        assert!(bad.is_empty(), "{} differ:\n{}", bad.len(), bad.join("\n"));
    }
}
