//! A contract's denied terms (`envelope.denied_terms`), compiled once at load into one
//! Aho-Corasick automaton (Aho and Corasick, "Efficient string matching", CACM 18(6), 1975)
//! over a normalized view of the text, so that a text is searched in one pass, in time linear
//! in its length, without a regex and without a copy of it.
//!
//! **What matches.** Text and terms are read through the same normalization, one character at
//! a time:
//! 1. Unicode look-alikes folded as the detectors fold them ([`crate::detect::decode::fold_char`]):
//!    invisible characters and generic combining marks removed, Unicode spaces to a space,
//!    fullwidth forms and decimal digits to ASCII (`ｐｒｏｊｅｃｔ` is `project`,
//!    `zeu\u{200B}s` is `zeus`);
//! 2. any other white space (`char::is_whitespace`: tabs, line breaks) to a space, and a run
//!    of spaces to one (`project\n  zeus` is `project zeus`);
//! 3. lower-cased (`char::to_lowercase`, Unicode's full mapping: `ZEUS`, `Zeus` and `zeus`
//!    are one term; `ÉCLAIR` is `éclair`).
//!
//! A term matches whole words only: where the term starts (ends) with a word character
//! (`char::is_alphanumeric` or `_`), the character before (after) it in the text must not be
//! one. `zeus` is found in `Zeus, again` and `(zeus)`, never in `zeuses` or `prozeus`.
//! Scripts written without spaces between words (Chinese, Japanese, Thai) have no such
//! boundaries: a term in them is found only where it stands apart.
//!
//! **Cost.** The search holds no copy of the text: [`TermStream`] keeps the automaton's state,
//! the word flags of the last [`RING_BITS`] normalized bytes, and one pending match, all inline
//! (about 300 bytes). Each byte takes one amortized automaton step, plus one step per term
//! that ends there (a chain only as long as terms that are suffixes of one another, such as
//! `zeus` and `project zeus`).

use std::collections::BTreeMap;

use crate::detect::decode::{fold_char, Fold};

/// Most terms in one contract's `denied_terms`.
pub const MAX_TERMS: usize = 1000;
/// Longest term, in bytes as configured (UTF-8).
pub const MAX_TERM_BYTES: usize = 256;
/// Longest term once normalized, in bytes: lower-casing may lengthen a character (`İ`, 2
/// bytes, is `i̇`, 3), never past this for 256 bytes as configured.
const MAX_NORMALIZED_BYTES: usize = 1024;
/// The word flags a stream keeps: more than the longest normalized term, so that the
/// character before any match is still known.
pub const RING_BITS: usize = 2048;
/// No state / no term.
const NONE: u32 = u32::MAX;

/// A term refused at load: its index in the list, and why (see [`DeniedTerms::compile`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermError {
    /// More than [`MAX_TERMS`] terms.
    TooMany,
    /// Empty, longer than [`MAX_TERM_BYTES`], or only white space and invisible characters.
    Length(usize),
    /// A control character (it could never match text a client reads).
    Control(usize),
    /// The same term as an earlier one, once normalized: `(earlier, this)`.
    Duplicate(usize, usize),
}

/// Denied terms, compiled: an Aho-Corasick automaton over normalized bytes, its transitions
/// flattened into sorted arrays (the root's dense).
#[derive(Debug, Clone)]
pub struct DeniedTerms {
    /// The root's transitions, by byte ([`NONE`] where the root stays).
    root: Vec<u32>,
    /// Each state's transitions: `edges[first[s]..first[s + 1]]`, sorted by byte.
    first: Vec<u32>,
    edges: Vec<(u8, u32)>,
    /// The failure link: the longest proper suffix of the state's path that is a path too.
    fail: Vec<u32>,
    /// The term that ends at the state, or [`NONE`].
    term: Vec<u32>,
    /// The nearest state on the failure chain where a term ends, or [`NONE`].
    dict: Vec<u32>,
    /// Per term: its normalized length in bytes, and whether it starts and ends with a word
    /// character (then a boundary is required there).
    terms: Vec<TermInfo>,
}

#[derive(Debug, Clone, Copy)]
struct TermInfo {
    len: u16,
    word_start: bool,
    word_end: bool,
}

/// `[A-Za-z0-9_]` and every other letter and digit: a term matches whole words of these.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The normalized characters of `c` (see the module doc), without the collapsing of spaces
/// (the caller's, as it needs the previous character).
fn normalize(c: char, mut out: impl FnMut(char)) {
    let c = match fold_char(c) {
        Fold::Remove => return,
        Fold::Ascii(b) => char::from(b),
        Fold::Keep => c,
    };
    if c.is_whitespace() {
        out(' ');
    } else if c.is_ascii() {
        out(c.to_ascii_lowercase());
    } else {
        c.to_lowercase().for_each(out);
    }
}

/// A term's normalized bytes: spaces collapsed and trimmed.
fn normalized(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for c in term.chars() {
        normalize(c, |n| {
            if !(n == ' ' && (out.is_empty() || out.ends_with(' '))) {
                out.push(n);
            }
        });
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

impl Default for DeniedTerms {
    fn default() -> Self {
        DeniedTerms {
            root: vec![NONE; 256],
            first: vec![0, 0],
            edges: Vec::new(),
            fail: vec![0],
            term: vec![NONE],
            dict: vec![NONE],
            terms: Vec::new(),
        }
    }
}

impl DeniedTerms {
    /// Compiles `terms` (each 1 to [`MAX_TERM_BYTES`] bytes, no control characters, none the
    /// same as another once normalized; at most [`MAX_TERMS`]).
    pub fn compile(terms: &[String]) -> Result<DeniedTerms, TermError> {
        if terms.len() > MAX_TERMS {
            return Err(TermError::TooMany);
        }
        // The trie, one map of children per state (build time only).
        let mut children: Vec<BTreeMap<u8, u32>> = vec![BTreeMap::new()];
        let mut term_at: Vec<u32> = vec![NONE];
        let mut infos = Vec::with_capacity(terms.len());
        for (i, t) in terms.iter().enumerate() {
            if t.is_empty() || t.len() > MAX_TERM_BYTES {
                return Err(TermError::Length(i));
            }
            if t.chars().any(|c| c.is_control() && !c.is_whitespace()) {
                return Err(TermError::Control(i));
            }
            let n = normalized(t);
            let (Some(first), Some(last)) = (n.chars().next(), n.chars().next_back()) else {
                return Err(TermError::Length(i));
            };
            let len = u16::try_from(n.len())
                .ok()
                .filter(|l| usize::from(*l) <= MAX_NORMALIZED_BYTES)
                .ok_or(TermError::Length(i))?;
            let mut s = 0u32;
            for b in n.bytes() {
                let next = u32::try_from(children.len()).unwrap_or(NONE);
                let node = children.get_mut(s as usize).ok_or(TermError::Length(i))?;
                s = *node.entry(b).or_insert(next);
                if s == next {
                    children.push(BTreeMap::new());
                    term_at.push(NONE);
                }
            }
            let slot = term_at.get_mut(s as usize).ok_or(TermError::Length(i))?;
            if *slot != NONE {
                return Err(TermError::Duplicate(*slot as usize, i));
            }
            *slot = u32::try_from(i).unwrap_or(NONE);
            infos.push(TermInfo {
                len,
                word_start: is_word(first),
                word_end: is_word(last),
            });
        }
        Ok(Self::link(children, term_at, infos))
    }

    /// Failure and dictionary links (breadth first), then the flat transition arrays.
    fn link(children: Vec<BTreeMap<u8, u32>>, term: Vec<u32>, terms: Vec<TermInfo>) -> Self {
        let n = children.len();
        let child = |s: u32, b: u8| children.get(s as usize).and_then(|m| m.get(&b)).copied();
        let mut fail = vec![0u32; n];
        let mut dict = vec![NONE; n];
        let mut queue = std::collections::VecDeque::new();
        if let Some(root) = children.first() {
            queue.extend(root.values().copied());
        }
        while let Some(u) = queue.pop_front() {
            let Some(kids) = children.get(u as usize) else {
                continue;
            };
            for (&b, &v) in kids {
                let mut f = fail.get(u as usize).copied().unwrap_or(0);
                let target = loop {
                    if let Some(t) = child(f, b) {
                        break t;
                    }
                    if f == 0 {
                        break 0;
                    }
                    f = fail.get(f as usize).copied().unwrap_or(0);
                };
                // A root child's failure is the root, not itself.
                let target = if u == 0 || target == v { 0 } else { target };
                if let Some(slot) = fail.get_mut(v as usize) {
                    *slot = target;
                }
                let d = if term.get(target as usize).is_some_and(|t| *t != NONE) {
                    target
                } else {
                    dict.get(target as usize).copied().unwrap_or(NONE)
                };
                if let Some(slot) = dict.get_mut(v as usize) {
                    *slot = d;
                }
                queue.push_back(v);
            }
        }
        // The root never fails to itself through a term.
        if let Some(d) = dict.first_mut() {
            *d = NONE;
        }
        let mut root = vec![NONE; 256];
        if let Some(r) = children.first() {
            for (&b, &v) in r {
                if let Some(slot) = root.get_mut(usize::from(b)) {
                    *slot = v;
                }
            }
        }
        let mut first = Vec::with_capacity(n + 1);
        let mut edges = Vec::new();
        for m in &children {
            first.push(u32::try_from(edges.len()).unwrap_or(NONE));
            edges.extend(m.iter().map(|(b, v)| (*b, *v)));
        }
        first.push(u32::try_from(edges.len()).unwrap_or(NONE));
        DeniedTerms {
            root,
            first,
            edges,
            fail,
            term,
            dict,
            terms,
        }
    }

    /// How many terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The index (in `denied_terms`) of the first term found in `text`, in text order (at one
    /// place, the lowest index).
    pub fn find(&self, text: &str) -> Option<usize> {
        let mut s = self.stream();
        s.feed(text);
        s.finish()
    }

    /// A search over text that arrives in pieces (a stream's deltas): a term split across
    /// pieces is found.
    pub fn stream(&self) -> TermStream<'_> {
        self.resume(TermState::default())
    }

    /// A search resumed where `state` stood ([`TermStream::into_state`]).
    pub fn resume(&self, state: TermState) -> TermStream<'_> {
        TermStream {
            terms: self,
            st: state,
        }
    }

    fn child(&self, s: u32, b: u8) -> Option<u32> {
        if s == 0 {
            return self
                .root
                .get(usize::from(b))
                .copied()
                .filter(|v| *v != NONE);
        }
        let from = self.first.get(s as usize).copied()? as usize;
        let to = self.first.get(s as usize + 1).copied()? as usize;
        let edges = self.edges.get(from..to)?;
        edges
            .binary_search_by_key(&b, |(k, _)| *k)
            .ok()
            .and_then(|i| edges.get(i))
            .map(|(_, v)| *v)
    }

    fn step(&self, mut s: u32, b: u8) -> u32 {
        // Each failure strictly shortens the path: at most its depth in steps.
        loop {
            if let Some(n) = self.child(s, b) {
                return n;
            }
            if s == 0 {
                return 0;
            }
            s = self.fail.get(s as usize).copied().unwrap_or(0);
        }
    }
}

/// A search in progress (see [`DeniedTerms::stream`]): feed it text, then [`TermStream::finish`].
#[derive(Debug, Clone)]
pub struct TermStream<'t> {
    terms: &'t DeniedTerms,
    st: TermState,
}

/// Where a [`TermStream`] stands, owned (no borrow of the terms): an exchange keeps it between
/// the chunks of a stream and resumes it with [`DeniedTerms::resume`].
#[derive(Debug, Clone, Default)]
pub struct TermState {
    state: u32,
    /// Normalized bytes so far.
    pos: u64,
    /// Bit `p % RING_BITS`: the character that ends at normalized offset `p` is a word
    /// character (offset 0: nothing before, false).
    ring: [u64; RING_BITS / 64],
    last_space: bool,
    /// A term that matched up to the last character, whose end boundary waits for the next.
    pending: Option<u32>,
    found: Option<u32>,
    /// The bytes of a character split across [`TermStream::feed_bytes`] calls.
    carry: [u8; 4],
    carry_len: u8,
}

impl TermStream<'_> {
    /// Searches `text` after what was fed before; the term found so far, if any (the search
    /// stops at the first).
    pub fn feed(&mut self, text: &str) -> Option<usize> {
        if self.st.found.is_none() && !self.terms.is_empty() {
            for c in text.chars() {
                self.char(c);
                if self.st.found.is_some() {
                    break;
                }
            }
        }
        self.found()
    }

    /// [`TermStream::feed`] for bytes that should be UTF-8 (a body): a character split across
    /// calls is joined; an invalid byte reads as U+FFFD (not a word character).
    pub fn feed_bytes(&mut self, mut bytes: &[u8]) -> Option<usize> {
        // Complete a character carried over from the last call.
        while self.st.carry_len > 0 && !bytes.is_empty() {
            let n = usize::from(self.st.carry_len);
            let Some((b, rest)) = bytes.split_first() else {
                break;
            };
            if let Some(slot) = self.st.carry.get_mut(n) {
                *slot = *b;
            }
            self.st.carry_len += 1;
            bytes = rest;
            let held = self.st.carry;
            let held = held.get(..n + 1).unwrap_or_default();
            match std::str::from_utf8(held) {
                Ok(s) => {
                    self.st.carry_len = 0;
                    self.feed(s);
                }
                Err(e) if e.error_len().is_some() => {
                    self.st.carry_len = 0;
                    self.feed("\u{FFFD}");
                    // The bytes after the bad one are read again.
                    let valid = e.valid_up_to() + e.error_len().unwrap_or(1);
                    let again: Vec<u8> = held.get(valid..).unwrap_or_default().to_vec();
                    if !again.is_empty() {
                        self.feed_bytes(&again);
                    }
                }
                Err(_) if n + 1 >= 4 => {
                    self.st.carry_len = 0;
                    self.feed("\u{FFFD}");
                }
                Err(_) => {}
            }
        }
        loop {
            match std::str::from_utf8(bytes) {
                Ok(s) => {
                    self.feed(s);
                    break;
                }
                Err(e) => {
                    let (good, rest) = bytes.split_at(e.valid_up_to());
                    self.feed(std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            self.feed("\u{FFFD}");
                            bytes = rest.get(bad..).unwrap_or_default();
                        }
                        None => {
                            // An incomplete character at the end: kept for the next call.
                            for (slot, b) in self.st.carry.iter_mut().zip(rest) {
                                *slot = *b;
                            }
                            self.st.carry_len = u8::try_from(rest.len().min(3)).unwrap_or(0);
                            break;
                        }
                    }
                }
            }
            if self.st.found.is_some() {
                break;
            }
        }
        self.found()
    }

    /// A break between two texts that are not one (two fields of a body): a term never spans
    /// it.
    pub fn boundary(&mut self) {
        self.feed(" ");
    }

    /// The term found so far.
    pub fn found(&self) -> Option<usize> {
        self.st.found.map(|t| t as usize)
    }

    /// The end of the text: a term that ends it is found.
    pub fn finish(mut self) -> Option<usize> {
        if self.st.carry_len > 0 {
            self.st.carry_len = 0;
            self.feed("\u{FFFD}");
        }
        if self.st.found.is_none() {
            self.st.found = self.st.pending.take();
        }
        self.found()
    }

    fn char(&mut self, c: char) {
        if c.is_ascii() {
            // The common case, without the folding table and the case mapping's iterator.
            let x = if c.is_whitespace() {
                ' '
            } else {
                c.to_ascii_lowercase()
            };
            if !(x == ' ' && self.st.last_space) {
                self.st.last_space = x == ' ';
                self.emit(x);
            }
            return;
        }
        let mut buf = [' '; 3];
        let mut n = 0;
        normalize(c, |x| {
            if let Some(slot) = buf.get_mut(n) {
                *slot = x;
                n += 1;
            }
        });
        for x in buf.into_iter().take(n) {
            if x == ' ' && self.st.last_space {
                continue;
            }
            self.st.last_space = x == ' ';
            self.emit(x);
            if self.st.found.is_some() {
                return;
            }
        }
    }

    fn flag(&self, p: u64) -> bool {
        let bit = (p % RING_BITS as u64) as usize;
        self.st
            .ring
            .get(bit / 64)
            .is_some_and(|w| w & (1u64 << (bit % 64)) != 0)
    }

    fn set_flag(&mut self, p: u64, on: bool) {
        let bit = (p % RING_BITS as u64) as usize;
        if let Some(w) = self.st.ring.get_mut(bit / 64) {
            if on {
                *w |= 1u64 << (bit % 64);
            } else {
                *w &= !(1u64 << (bit % 64));
            }
        }
    }

    /// One normalized character.
    fn emit(&mut self, c: char) {
        let word = is_word(c);
        if let Some(t) = self.st.pending.take() {
            if !word {
                self.st.found = Some(t);
                return;
            }
        }
        let mut utf8 = [0u8; 4];
        for &b in c.encode_utf8(&mut utf8).as_bytes() {
            self.st.state = self.terms.step(self.st.state, b);
            self.st.pos = self.st.pos.saturating_add(1);
        }
        self.set_flag(self.st.pos, word);
        // Every term that ends here: the state's own, then the dictionary chain.
        let d = &self.terms;
        let mut s = if d
            .term
            .get(self.st.state as usize)
            .is_some_and(|t| *t != NONE)
        {
            self.st.state
        } else {
            d.dict.get(self.st.state as usize).copied().unwrap_or(NONE)
        };
        let mut now: Option<u32> = None;
        let mut later: Option<u32> = None;
        while s != NONE {
            let t = d.term.get(s as usize).copied().unwrap_or(NONE);
            if let Some(info) = d.terms.get(t as usize) {
                let start = self.st.pos.saturating_sub(u64::from(info.len));
                let start_ok = !info.word_start || !self.flag(start);
                if start_ok {
                    let slot = if info.word_end { &mut later } else { &mut now };
                    *slot = Some(slot.map_or(t, |o| o.min(t)));
                }
            }
            s = d.dict.get(s as usize).copied().unwrap_or(NONE);
        }
        if now.is_some() {
            self.st.found = now;
        } else {
            self.st.pending = later;
        }
    }

    /// Where the search stands, to resume it later ([`DeniedTerms::resume`]).
    pub fn into_state(self) -> TermState {
        self.st
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(list: &[&str]) -> DeniedTerms {
        let v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        DeniedTerms::compile(&v).unwrap()
    }

    #[test]
    fn case_insensitive_whole_words() {
        let d = terms(&["project zeus", "zeus", "acme"]);
        assert_eq!(d.find("about Project ZEUS today"), Some(0));
        assert_eq!(d.find("Zeus, again"), Some(1));
        assert_eq!(d.find("(zeus)"), Some(1));
        assert_eq!(d.find("zeus"), Some(1));
        assert_eq!(d.find("ACME corp"), Some(2));
        // Never inside a longer word.
        assert_eq!(d.find("zeuses prozeus zeus_x x_zeus zeus2 acmes"), None);
        assert_eq!(d.find("project zeusx"), None);
        assert_eq!(d.find(""), None);
        // The first in text order.
        assert_eq!(d.find("acme and zeus"), Some(2));
    }

    #[test]
    fn whitespace_runs_and_unicode_folding() {
        let d = terms(&["project  Zeus", "éclair"]);
        assert_eq!(d.find("project\n\t zeus"), Some(0));
        // Fullwidth forms, a zero-width space, a no-break space.
        assert_eq!(d.find("ｐｒｏｊｅｃｔ ｚｅｕｓ"), Some(0));
        assert_eq!(d.find("project ze\u{200B}us"), Some(0));
        assert_eq!(d.find("project\u{00A0}zeus"), Some(0));
        // Unicode lower-casing.
        assert_eq!(d.find("UN ÉCLAIR"), Some(1));
        assert_eq!(d.find("éclairs"), None);
        // Non-ASCII letters are word characters: no match inside `éclairé`.
        assert_eq!(d.find("éclairé"), None);
    }

    #[test]
    fn terms_with_punctuation_edges() {
        let d = terms(&["$secret", "c++"]);
        assert_eq!(d.find("the $secret key"), Some(0));
        assert_eq!(d.find("x$secret"), Some(0));
        assert_eq!(d.find("$secrets"), None);
        assert_eq!(d.find("i like c++!"), Some(1));
        assert_eq!(d.find("c++x"), Some(1));
        assert_eq!(d.find("abc++"), None);
    }

    #[test]
    fn overlapping_and_suffix_terms() {
        let d = terms(&["he", "she", "his", "hers"]);
        assert_eq!(d.find("ushers"), None);
        assert_eq!(d.find("u she rs"), Some(1));
        assert_eq!(d.find("hers"), Some(3));
        let d = terms(&["b a", "a"]);
        assert_eq!(d.find("b a"), Some(0));
        assert_eq!(d.find("xb a"), Some(1));
        // A failed prefix does not hide a later term.
        let d = terms(&["abcd", "bc"]);
        assert_eq!(d.find("abc bc"), Some(1));
        assert_eq!(d.find("abcx"), None);
    }

    #[test]
    fn streamed_across_pieces() {
        let d = terms(&["project zeus"]);
        let mut s = d.stream();
        for piece in ["the pro", "ject", " ", "ZE", "us"] {
            assert_eq!(s.feed(piece), None);
        }
        // Pending until the next character or the end says the word is over.
        assert_eq!(s.finish(), Some(0));
        let mut s = d.stream();
        s.feed("project ze");
        s.feed("usx");
        assert_eq!(s.finish(), None);
        let mut s = d.stream();
        s.feed("project");
        s.boundary();
        s.feed("zeus");
        assert_eq!(s.finish(), Some(0));
        // Bytes, a character split between calls.
        let d = terms(&["zeus é"]);
        let text = "ZEUS É!".as_bytes();
        let mut s = d.stream();
        for b in text.chunks(1) {
            s.feed_bytes(b);
        }
        assert_eq!(s.finish(), Some(0));
        let mut s = d.stream();
        s.feed_bytes(b"zeus \xff\xc3");
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn long_texts_wrap_the_ring() {
        let d = terms(&["zeus"]);
        let mut text = "word ".repeat(1000);
        text.push_str("zeus");
        assert_eq!(d.find(&text), Some(0));
        let mut text = "x".repeat(5000);
        text.push_str("zeus");
        assert_eq!(d.find(&text), None);
        // A term at offset 2048 k, whose start bit wrapped.
        let mut text = "y".repeat(RING_BITS - 1);
        text.push_str(" zeus");
        assert_eq!(d.find(&text), Some(0));
    }

    #[test]
    fn refused_terms() {
        let c =
            |l: &[&str]| DeniedTerms::compile(&l.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(c(&["a", ""]).unwrap_err(), TermError::Length(1));
        assert_eq!(c(&[" \u{200B} "]).unwrap_err(), TermError::Length(0));
        assert_eq!(c(&[&"x".repeat(257)]).unwrap_err(), TermError::Length(0));
        assert!(c(&[&"x".repeat(256)]).is_ok());
        assert_eq!(c(&["a\u{1}b"]).unwrap_err(), TermError::Control(0));
        assert_eq!(
            c(&["Zeus", "b", "zeus "]).unwrap_err(),
            TermError::Duplicate(0, 2)
        );
        let many: Vec<String> = (0..1001).map(|i| format!("t{i}")).collect();
        assert_eq!(DeniedTerms::compile(&many).unwrap_err(), TermError::TooMany);
        let ok: Vec<String> = (0..1000).map(|i| format!("t{i}")).collect();
        let d = DeniedTerms::compile(&ok).unwrap();
        assert_eq!(d.find("a t999 b"), Some(999));
        assert_eq!(d.find("t1000"), None);
        assert_eq!(DeniedTerms::default().find("anything"), None);
    }
}
