//! E-mail addresses, found from their `@`: a local part of RFC 5322 atoms (letters, digits and
//! `.!#$%*+-^_~`; at most 64 bytes, no leading, trailing or doubled dot) and a domain of at
//! least two labels whose last label (the TLD) is letters only or punycode (`xn--`).
//!
//! The atom characters that delimit fields in URLs, JSON and code (`'/=?&{|}`) are left out,
//! so that `?email=jane@example.com` yields `jane@example.com`, not `email=jane@...`.
//!
//! Git and SSH remotes are not addresses: the SCP form `git@github.com:acme/widgets.git` (a
//! domain followed by `:` and a path or port) and the user of a URL (`ssh://git@host/...`).
//! A colon that ends a sentence or a field (`jane@example.com: hi`, `mailto:` before it) is
//! no path.

use std::ops::Range;

use super::catalogue::{BuiltIn, Stop};

pub(super) struct Email;

impl BuiltIn for Email {
    const NAME: &'static str = "email";
    const FINDS: &'static str = "`local@domain.tld`: a local part of RFC 5322 atom characters except those that delimit URL and JSON fields (letters, digits, `.!#$%*+-^_~`; at most 64, no leading, trailing or doubled dot), at least two domain labels, TLD of letters or punycode (`xn--`). Git/SSH remotes (`git@host:path`, `ssh://git@host/`) are not addresses.";
    const STOPS: &'static [u8] = b"@";
    #[inline]
    fn at_stop(t: &[u8], i: usize) -> Stop {
        Stop::Claim(match_around(t, i))
    }
}

const MAX_LOCAL: usize = 64;

/// File extensions that are not top-level domains: `icon@2x.png` is a file name.
const FILE_EXTENSIONS: &[&[u8]] = &[
    b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"bmp", b"ico", b"tif", b"tiff", b"css",
    b"js", b"mjs", b"json", b"yaml", b"yml", b"txt", b"htm", b"html", b"xml", b"exe", b"dll",
    b"tar", b"gz", b"tgz", b"bz2", b"xz", b"pdf", b"doc", b"docx", b"xls", b"xlsx", b"csv", b"log",
    b"tmp", b"bak", b"wasm", b"mp3", b"mp4", b"wav", b"avi",
];
const MAX_DOMAIN: usize = 253;
const MAX_LABEL: usize = 63;

fn is_local(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'.' | b'_' | b'%' | b'+' | b'-' | b'!' | b'#' | b'$' | b'*' | b'^' | b'~'
        )
}

fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// A byte that starts the path (or port) of an SCP-style remote after `host:`.
fn is_path_start(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'~' | b'.' | b'_' | b'-')
}

/// The address around the `@` at `at_pos`, if there is one.
pub(super) fn match_around(text: &[u8], at_pos: usize) -> Option<Range<usize>> {
    // Local part, backwards, bounded.
    let mut start = at_pos;
    while let Some(&b) = start.checked_sub(1).and_then(|p| text.get(p)) {
        if !is_local(b) {
            break;
        }
        start -= 1;
        if at_pos - start > MAX_LOCAL {
            return None;
        }
    }
    // Dots before the address are punctuation (`see...jane@x.io`): the address starts after
    // the last doubled dot, and never with a dot.
    if let Some(p) = text
        .get(start..at_pos)
        .and_then(|l| l.windows(2).rposition(|w| w == b".."))
    {
        start += p + 2;
    }
    while text.get(start) == Some(&b'.') && start < at_pos {
        start += 1;
    }
    let local = text.get(start..at_pos)?;
    if local.is_empty() || local.ends_with(b".") {
        return None;
    }
    // The user of a URL (`ssh://git@host/...`): a login, not an address.
    if start >= 3 && text.get(start - 3..start) == Some(b"://") {
        return None;
    }

    // Domain, forwards, bounded.
    let dom_start = at_pos + 1;
    let mut end = dom_start;
    while text.get(end).is_some_and(|&b| is_domain(b)) {
        end += 1;
        if end - dom_start > MAX_DOMAIN + 1 {
            return None;
        }
    }
    // A trailing dot ends the sentence, not the domain.
    while end > dom_start && text.get(end - 1) == Some(&b'.') {
        end -= 1;
    }
    // `user@host:path` is an SCP-style git/ssh remote.
    if text.get(end) == Some(&b':') && text.get(end + 1).is_some_and(|&b| is_path_start(b)) {
        return None;
    }
    let domain = text.get(dom_start..end)?;
    if domain.len() > MAX_DOMAIN {
        return None;
    }
    let mut labels = 0usize;
    let mut last: &[u8] = &[];
    for label in domain.split(|&b| b == b'.') {
        if label.is_empty()
            || label.len() > MAX_LABEL
            || label.starts_with(b"-")
            || label.ends_with(b"-")
        {
            return None;
        }
        labels += 1;
        last = label;
    }
    let tld_ok = (last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic))
        || (last.len() > 4
            && last
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"))
            && last.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-'));
    let file = FILE_EXTENSIONS.iter().any(|e| last.eq_ignore_ascii_case(e));
    (labels >= 2 && tld_ok && !file).then_some(start..end)
}

#[cfg(test)]
#[allow(clippy::string_slice)]
mod tests {
    use super::*;

    fn email(text: &str) -> Option<&str> {
        let at = text.find('@')?;
        match_around(text.as_bytes(), at).map(|r| &text[r])
    }

    #[test]
    fn addresses() {
        assert_eq!(
            email("mail jane.doe@example.com."),
            Some("jane.doe@example.com")
        );
        assert_eq!(
            email(r#""to":"a+tag@sub.example.co.uk""#),
            Some("a+tag@sub.example.co.uk")
        );
        assert_eq!(email("see...bob@x.io"), Some("bob@x.io"));
        assert_eq!(
            email("x@xn--bcher-kva.xn--p1ai"),
            Some("x@xn--bcher-kva.xn--p1ai")
        );
    }

    #[test]
    fn not_addresses() {
        assert_eq!(email("a..b@c.com"), Some("b@c.com"));
        for t in [
            "icon@2x.png",
            "logo@3x.JPG",
            "@example.com",
            "a@localhost",
            "a@b.c",
            "a.@b.com",
            "a@-b.com",
            "a@b.c0m",
            "user@",
            "v1.2@3.4",
        ] {
            assert_eq!(email(t), None, "{t}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(email(&long_local), None);
    }

    #[test]
    fn remotes_are_not_addresses() {
        for t in [
            "git@github.com:acme/widgets.git",
            "git clone git@github.com:acme/widgets.git",
            "remote = git@gitlab.example.com:group/sub/repo.git",
            "deploy@build.example.com:~/releases",
            "scp f.txt ops@host.example.org:/var/tmp/",
            "ops@host.example.org:backup.tar",
            "ssh://git@github.com/acme/widgets.git",
            "ssh://git@github.com:22/acme/widgets.git",
            "https://jane@example.com/path",
        ] {
            assert_eq!(email(t), None, "{t}");
        }
    }

    #[test]
    fn addresses_near_colons() {
        for (t, want) in [
            ("mailto:jane@example.com", "jane@example.com"),
            ("<a href=\"mailto:jane@example.com\">", "jane@example.com"),
            ("write to jane@example.com: she answers", "jane@example.com"),
            ("the owner is jane@example.com:", "jane@example.com"),
            ("to:jane@example.com;cc:bob@example.org", "jane@example.com"),
            ("email: jane@example.com", "jane@example.com"),
            ("jane@example.com:\n", "jane@example.com"),
            ("a//jane@example.com", "jane@example.com"),
        ] {
            assert_eq!(email(t), Some(want), "{t}");
        }
    }
}
