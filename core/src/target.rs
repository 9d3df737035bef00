//! Where a client asks its data to go (ACVPS's `X-Target-Endpoint`, issue 14's gateway mode):
//! the absolute URL parsed as a browser and `curl` read it, and what its host is. A
//! client-chosen target is an SSRF by default: a loopback, private, link-local or cloud
//! metadata address must be refused whatever its spelling (decimal `2130706433`, octal
//! `0177.0.0.1`, hex `0x7f.1`, IPv4-mapped IPv6 `[::ffff:7f00:1]`, a trailing dot,
//! percent-escapes in the host), so the host is read the way the WHATWG URL standard's host
//! parser reads it (§3.5 "Host parsing", §3.5.1 "IPv4 parser") and then classified.
//!
//! Written here rather than with the `url` crate: what matters is the host's reading and
//! class, and that crate's IDNA tables would weigh on the Wasm module; a host with anything
//! outside ASCII is refused instead (its punycode form is accepted). Not wired yet.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A target's scheme: the forward proxy speaks these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A target's host, as the URL standard reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    /// A domain name: lower-case ASCII, without a trailing dot.
    Name(String),
}

/// A parsed target URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: Scheme,
    pub host: Host,
    /// The port given, or the scheme's.
    pub port: u16,
    /// The path and query as given (`/` when empty).
    pub path: String,
}

/// Why a target URL is refused, before its host is even classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetError {
    /// Not `http://` or `https://` followed by an authority.
    NotAbsolute,
    /// A scheme other than `http` and `https`.
    Scheme,
    /// `user:pass@host`: credentials in a target (and a classic way to disguise its host).
    UserInfo,
    /// No host, or a host the URL standard refuses (a forbidden code point, a bad IPv4 number,
    /// an IPv6 address that does not parse or carries a zone).
    BadHost,
    /// A host with anything outside ASCII (IDNA would map look-alikes: `１２７.０.０.１`).
    NonAscii,
    /// A port that is not 1..65535.
    BadPort,
    /// Control characters, spaces or backslashes (which browsers read as `/`).
    Forbidden,
}

/// What a host is, for the gateway's refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// A public address, or a name (what it resolves to is Envoy's DNS's).
    Public,
    /// `127.0.0.0/8`, `::1`, `localhost` and `*.localhost`.
    Loopback,
    /// RFC 1918, the shared address space of RFC 6598 (`100.64.0.0/10`), IPv6 unique local
    /// addresses (`fc00::/7`), and names that only resolve inside: a single label (`redis`),
    /// `.internal`, `.cluster`, `.local`, `.localdomain`, `.home.arpa`, `.svc`, `.consul`, `.lan`, `.corp`,
    /// `.intranet`, `.home`, `.private`, `.priv`, `.intra`.
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// Cloud instance metadata services: `169.254.169.254` (AWS, GCP, Azure, OpenStack),
    /// `169.254.170.2` (ECS), `100.100.100.200` (Alibaba), `fd00:ec2::254` (AWS IPv6),
    /// `metadata.google.internal`, `metadata`, `instance-data`.
    Metadata,
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// Multicast, broadcast, documentation, benchmarking and reserved ranges.
    Reserved,
}

impl TargetError {
    /// What is wrong, for a reply or a log line (never the URL itself, which the client wrote
    /// and may hold anything).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetError::NotAbsolute => "not an absolute http:// or https:// URL",
            TargetError::Scheme => "a scheme other than http and https",
            TargetError::UserInfo => "credentials (user@) in the URL",
            TargetError::BadHost => "no host, or a host that does not parse",
            TargetError::NonAscii => "a host with non-ASCII characters (use its punycode form)",
            TargetError::BadPort => "a port outside 1..65535",
            TargetError::Forbidden => "control characters, spaces or backslashes",
        }
    }
}

impl NotAllowed {
    /// Why, in a word: the reply's and the event's `reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotAllowed::Scheme => "scheme",
            NotAllowed::Host => "host",
            NotAllowed::Port => "port",
            NotAllowed::Class(c) => c.as_str(),
        }
    }
}

impl AddressClass {
    /// Every class, public first.
    pub const ALL: [AddressClass; 7] = [
        AddressClass::Public,
        AddressClass::Loopback,
        AddressClass::Private,
        AddressClass::LinkLocal,
        AddressClass::Metadata,
        AddressClass::Unspecified,
        AddressClass::Reserved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link_local",
            AddressClass::Metadata => "metadata",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Reserved => "reserved",
        }
    }
}

impl Target {
    /// Parses an absolute `http://` or `https://` URL.
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        if url
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b == b'\\')
        {
            return Err(TargetError::Forbidden);
        }
        let (scheme, rest) = url.split_once("://").ok_or(TargetError::NotAbsolute)?;
        let scheme = if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(TargetError::NotAbsolute);
        } else {
            return Err(TargetError::Scheme);
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..end).unwrap_or_default();
        let path = match rest.get(end..).unwrap_or_default() {
            "" => "/".to_string(),
            p if p.starts_with('/') => p.to_string(),
            p => format!("/{p}"),
        };
        if authority.contains('@') {
            return Err(TargetError::UserInfo);
        }
        let (host, port) = split_port(authority)?;
        let host = parse_host(host)?;
        let port = match port {
            None => scheme.default_port(),
            Some(p) => p,
        };
        Ok(Target {
            scheme,
            host,
            port,
            path,
        })
    }

    /// The `:authority` the forward proxy routes on: the host as read (IPv6 in brackets),
    /// and the port unless it is the scheme's default (RFC 9110 §4.2.3).
    pub fn authority(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.to_string()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// `scheme://host:port`, the port always written: the target's identity for the
    /// manifest cache and the events (RFC 6454 origin, serialized with its port).
    pub fn origin(&self) -> String {
        format!("{}://{}:{}", self.scheme.as_str(), self.host, self.port)
    }
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// The host and port of an authority (`[::1]:8080`, `example.com:443`, `example.com`).
fn split_port(authority: &str) -> Result<(&str, Option<u16>), TargetError> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or(TargetError::BadHost)?;
        let host = authority.get(..close + 1).ok_or(TargetError::BadHost)?;
        match authority.get(close + 1..).unwrap_or_default() {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':').ok_or(TargetError::BadHost)?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|n| *n > 0 && p.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(TargetError::BadPort)?,
        ),
    };
    Ok((host, port))
}

/// The URL standard's host parser, for special schemes: percent-decoded, then an IPv6
/// address in brackets, an IPv4 address in any of its number forms, or a domain name.
fn parse_host(raw: &str) -> Result<Host, TargetError> {
    if let Some(inner) = raw.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or(TargetError::BadHost)?;
        // A zone (`fe80::1%25eth0`) names an interface of this machine: never a target.
        if inner.contains('%') {
            return Err(TargetError::BadHost);
        }
        return inner
            .parse::<Ipv6Addr>()
            .map(Host::Ipv6)
            .map_err(|_| TargetError::BadHost);
    }
    let decoded = percent_decode(raw).ok_or(TargetError::BadHost)?;
    if !decoded.is_ascii() {
        return Err(TargetError::NonAscii);
    }
    let host = decoded.to_ascii_lowercase();
    if host.is_empty()
        || host.bytes().any(|b| {
            matches!(
                b,
                b'\0'
                    | b'\t'
                    | b'\n'
                    | b'\r'
                    | b' '
                    | b'#'
                    | b'/'
                    | b':'
                    | b'<'
                    | b'>'
                    | b'?'
                    | b'@'
                    | b'['
                    | b'\\'
                    | b']'
                    | b'^'
                    | b'|'
                    | b'%'
            )
        })
    {
        return Err(TargetError::BadHost);
    }
    if ends_in_a_number(&host) {
        return ipv4(&host).map(Host::Ipv4).ok_or(TargetError::BadHost);
    }
    let name = host.strip_suffix('.').unwrap_or(&host);
    // DNS limits (RFC 1035 §2.3.4): labels of 1 to 63 octets, names of at most 253 written
    // out. An empty label (`127.0.0.1..`, `a..b`) is no name Envoy's resolver should be asked
    // to make sense of.
    if name.is_empty() || name.len() > 253 || name.split('.').any(|l| l.is_empty() || l.len() > 63)
    {
        return Err(TargetError::BadHost);
    }
    Ok(Host::Name(name.to_string()))
}

/// `%XX` escapes undone (`None` for a bad escape or bytes that are not UTF-8).
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let v = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            out.push(v);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL standard's "ends in a number checker": the last label (a trailing dot dropped) is
/// all digits, or `0x` and hex digits. Such a host must be an IPv4 address.
fn ends_in_a_number(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or_default();
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let hex = last.strip_prefix("0x").or_else(|| last.strip_prefix("0X"));
    hex.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The URL standard's IPv4 parser: one to four parts, each decimal, octal (a leading `0`) or
/// hex (`0x`); the last fills the bytes the others leave (`127.1`, `2130706433`).
fn ipv4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for p in &parts {
        numbers.push(ipv4_number(p)?);
    }
    let (last, rest) = numbers.split_last()?;
    if rest.iter().any(|n| *n > 255) {
        return None;
    }
    let bits = 8 * (4 - rest.len() as u32);
    if bits < 64 && *last >= 1u64 << bits {
        return None;
    }
    let mut value = *last;
    for (i, n) in rest.iter().enumerate() {
        value += n << (8 * (3 - i as u32));
    }
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (h, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (part.get(1..)?, 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        // `0x` alone is zero.
        return (radix == 16).then_some(0);
    }
    // Longer than any 32-bit value could be written: refused rather than overflowed.
    if digits.len() > 32 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

impl Host {
    /// What this host is (an IPv6 address that carries an IPv4 one, mapped, compatible, NAT64
    /// or 6to4, is what that IPv4 address is).
    pub fn class(&self) -> AddressClass {
        match self {
            Host::Ipv4(a) => ipv4_class(*a),
            Host::Ipv6(a) => ipv6_class(*a),
            Host::Name(n) => name_class(n),
        }
    }
}

fn ipv4_class(a: Ipv4Addr) -> AddressClass {
    let [x, y, z, w] = a.octets();
    match (x, y, z, w) {
        (169, 254, 169, 254) | (169, 254, 170, 2) | (100, 100, 100, 200) => AddressClass::Metadata,
        (0, ..) => AddressClass::Unspecified,
        (127, ..) => AddressClass::Loopback,
        (10, ..) => AddressClass::Private,
        (172, 16..=31, ..) | (192, 168, ..) => AddressClass::Private,
        (100, 64..=127, ..) => AddressClass::Private,
        (169, 254, ..) => AddressClass::LinkLocal,
        (192, 0, 0, _)
        | (192, 0, 2, _)
        | (198, 18..=19, ..)
        | (198, 51, 100, _)
        | (203, 0, 113, _) => AddressClass::Reserved,
        (224..=255, ..) => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn ipv6_class(a: Ipv6Addr) -> AddressClass {
    let s = a.segments();
    let o = a.octets();
    let embedded = |i: usize| {
        let b = |k: usize| o.get(k).copied().unwrap_or(0);
        Ipv4Addr::new(b(i), b(i + 1), b(i + 2), b(i + 3))
    };
    match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => AddressClass::Unspecified,
        [0, 0, 0, 0, 0, 0, 0, 1] => AddressClass::Loopback,
        // IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`, deprecated).
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0, 0, ..] => ipv4_class(embedded(12)),
        // NAT64 (RFC 6052's well-known prefix `64:ff9b::/96`).
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => ipv4_class(embedded(12)),
        // 6to4 (`2002:a.b.c.d::/48`).
        [0x2002, ..] => ipv4_class(embedded(2)),
        [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254] => AddressClass::Metadata,
        [x, ..] if x & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        [x, ..] if x & 0xfe00 == 0xfc00 => AddressClass::Private,
        [x, ..] if x & 0xff00 == 0xff00 => AddressClass::Reserved,
        [0x2001, 0x0db8, ..] => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn name_class(n: &str) -> AddressClass {
    const METADATA: [&str; 4] = [
        "metadata",
        "metadata.google.internal",
        "instance-data",
        "instance-data.ec2.internal",
    ];
    // Names that only resolve inside a network: RFC 6762 appendix G's de-facto private
    // top-level names, Kubernetes' and Consul's service domains (`svc.cluster` is how a pod
    // names a service through its search domains), and RFC 8375's home.arpa.
    const INSIDE: [&str; 14] = [
        ".internal",
        ".cluster",
        ".local",
        ".localdomain",
        ".home.arpa",
        ".svc",
        ".consul",
        ".lan",
        ".corp",
        ".intranet",
        ".home",
        ".private",
        ".priv",
        ".intra",
    ];
    if METADATA.contains(&n) {
        AddressClass::Metadata
    } else if n == "localhost" || n.ends_with(".localhost") {
        AddressClass::Loopback
    } else if !n.contains('.') {
        // A single label resolves only through a resolver's search domains or a hosts file:
        // inside (`redis`, `kubernetes`), never a public name.
        AddressClass::Private
    } else if INSIDE
        .iter()
        .any(|s| n.ends_with(s) || s.strip_prefix('.') == Some(n))
    {
        AddressClass::Private
    } else {
        AddressClass::Public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(url: &str) -> AddressClass {
        Target::parse(url)
            .unwrap_or_else(|e| panic!("{url}: {e:?}"))
            .host
            .class()
    }

    #[test]
    fn loopback_in_every_spelling_is_loopback() {
        for url in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.0x0.0x0.0x1/",
            "http://0x7f000001/",
            "http://0x7F.1/",
            "http://127.0.0.1./",
            "http://017700000001/",
            "http://0177.1/",
            "http://127.000.000.001/",
            "http://%31%32%37.0.0.1/",
            "HTTP://LOCALHOST/",
            "http://localhost./",
            "http://api.localhost:8080/x",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2002:7f00:1::]/",
            "http://[::127.0.0.1]/",
        ] {
            assert_eq!(class(url), AddressClass::Loopback, "{url}");
        }
    }

    #[test]
    fn metadata_link_local_private_and_unspecified_are_told_apart() {
        assert_eq!(
            class("http://169.254.169.254/latest/meta-data/"),
            AddressClass::Metadata
        );
        assert_eq!(class("http://2852039166/"), AddressClass::Metadata);
        assert_eq!(class("http://0xa9.0xfe.0xa9.0xfe/"), AddressClass::Metadata);
        assert_eq!(
            class("http://[::ffff:169.254.169.254]/"),
            AddressClass::Metadata
        );
        assert_eq!(class("http://[fd00:ec2::254]/"), AddressClass::Metadata);
        assert_eq!(
            class("http://metadata.google.internal/"),
            AddressClass::Metadata
        );
        assert_eq!(class("http://100.100.100.200/"), AddressClass::Metadata);
        assert_eq!(class("http://169.254.1.1/"), AddressClass::LinkLocal);
        assert_eq!(class("http://[fe80::1]/"), AddressClass::LinkLocal);
        for url in [
            "http://10.0.0.1/",
            "http://172.16.5.4/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://[fd12:3456::1]/",
            "http://db.internal/",
            "http://printer.local/",
        ] {
            assert_eq!(class(url), AddressClass::Private, "{url}");
        }
        assert_eq!(class("http://0.0.0.0/"), AddressClass::Unspecified);
        assert_eq!(class("http://0/"), AddressClass::Unspecified);
        assert_eq!(class("http://[::]/"), AddressClass::Unspecified);
        assert_eq!(class("http://255.255.255.255/"), AddressClass::Reserved);
        assert_eq!(class("http://224.0.0.1/"), AddressClass::Reserved);
        assert_eq!(class("https://api.example.com/v1"), AddressClass::Public);
        assert_eq!(class("https://8.8.8.8/"), AddressClass::Public);
        assert_eq!(class("https://172.32.0.1/"), AddressClass::Public);
    }

    #[test]
    fn urls_that_disguise_their_host_are_refused() {
        for (url, why) in [
            ("http://user:pass@127.0.0.1/", TargetError::UserInfo),
            ("http://example.com@127.0.0.1/", TargetError::UserInfo),
            ("http://127.0.0.1\\@example.com/", TargetError::Forbidden),
            ("http://exa mple.com/", TargetError::Forbidden),
            (
                "http://\u{ff11}\u{ff12}\u{ff17}.0.0.1/",
                TargetError::NonAscii,
            ),
            ("http://[fe80::1%25eth0]/", TargetError::BadHost),
            ("http://256.0.0.1/", TargetError::BadHost),
            ("http://1.2.3.4.5/", TargetError::BadHost),
            ("http://0x100000000/", TargetError::BadHost),
            ("http://example.08/", TargetError::BadHost),
            ("http:///path", TargetError::BadHost),
            ("http://example.com:0/", TargetError::BadPort),
            ("http://example.com:70000/", TargetError::BadPort),
            ("http://example.com:+80/", TargetError::BadPort),
            ("file:///etc/passwd", TargetError::Scheme),
            ("gopher://127.0.0.1/", TargetError::Scheme),
            ("//example.com/", TargetError::NotAbsolute),
            ("example.com", TargetError::NotAbsolute),
        ] {
            assert_eq!(Target::parse(url), Err(why), "{url}");
        }
    }

    #[test]
    fn a_target_has_its_scheme_port_and_path() {
        let t = Target::parse("HTTPS://API.Example.COM./v1/chat?x=1").unwrap();
        assert_eq!(t.scheme, Scheme::Https);
        assert_eq!(t.host, Host::Name("api.example.com".into()));
        assert_eq!(t.port, 443);
        assert_eq!(t.path, "/v1/chat?x=1");
        let t = Target::parse("http://[2001:4860::8888]:8080").unwrap();
        assert_eq!(t.port, 8080);
        assert_eq!(t.path, "/");
        assert_eq!(t.host.class(), AddressClass::Public);
    }
}

/// A host pattern of a contract's allowed targets: a name (`api.groq.com`), every name under
/// a domain (`*.example.com`, not `example.com` itself), or an address (`10.1.2.3`, `::1`),
/// compared after the same reading as a target's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    Exact(Host),
    /// `*.example.com`: the suffix `.example.com`.
    Under(String),
}

impl HostPattern {
    /// Reads a pattern; `None` when it is not a host (or a `*.` pattern without a domain).
    pub fn parse(pattern: &str) -> Option<HostPattern> {
        if let Some(domain) = pattern.strip_prefix("*.") {
            return match parse_host(domain).ok()? {
                Host::Name(n) => Some(HostPattern::Under(format!(".{n}"))),
                _ => None,
            };
        }
        let raw = if pattern.contains(':') && !pattern.starts_with('[') {
            format!("[{pattern}]")
        } else {
            pattern.to_string()
        };
        parse_host(&raw).ok().map(HostPattern::Exact)
    }

    pub fn matches(&self, host: &Host) -> bool {
        match (self, host) {
            (HostPattern::Exact(h), host) => h == host,
            (HostPattern::Under(suffix), Host::Name(n)) => n.ends_with(suffix.as_str()),
            (HostPattern::Under(_), _) => false,
        }
    }
}

/// What a contract lets a client send its data to: schemes, hosts, ports, and the address
/// classes other than public ones it allows explicitly. An empty list allows any (but no
/// class other than public is allowed unless named: a private target is an SSRF by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedTargets {
    pub schemes: Vec<Scheme>,
    pub hosts: Vec<HostPattern>,
    pub ports: Vec<u16>,
    pub classes: Vec<AddressClass>,
}

/// Why a target is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAllowed {
    Scheme,
    Host,
    Port,
    /// Its address class (loopback, private, metadata, ...) is not allowed by the contract.
    Class(AddressClass),
}

impl AllowedTargets {
    /// Whether `target` may be sent to. The class is checked first: a host pattern that names
    /// a private address does not, by itself, allow private addresses.
    pub fn check(&self, target: &Target) -> Result<(), NotAllowed> {
        let class = target.host.class();
        if class != AddressClass::Public && !self.classes.contains(&class) {
            return Err(NotAllowed::Class(class));
        }
        if !self.schemes.is_empty() && !self.schemes.contains(&target.scheme) {
            return Err(NotAllowed::Scheme);
        }
        if !self.hosts.is_empty() && !self.hosts.iter().any(|p| p.matches(&target.host)) {
            return Err(NotAllowed::Host);
        }
        if !self.ports.is_empty() && !self.ports.contains(&target.port) {
            return Err(NotAllowed::Port);
        }
        Ok(())
    }
}

#[cfg(test)]
mod allowed_tests {
    use super::*;

    fn t(url: &str) -> Target {
        Target::parse(url).unwrap()
    }

    #[test]
    fn a_contract_allows_its_schemes_hosts_and_ports_and_no_private_address_unless_named() {
        let allowed = AllowedTargets {
            schemes: vec![Scheme::Https],
            hosts: vec![
                HostPattern::parse("api.groq.com").unwrap(),
                HostPattern::parse("*.example.com").unwrap(),
            ],
            ports: vec![443],
            classes: vec![],
        };
        assert_eq!(allowed.check(&t("https://api.groq.com/v1")), Ok(()));
        assert_eq!(allowed.check(&t("https://API.GROQ.COM./v1")), Ok(()));
        assert_eq!(allowed.check(&t("https://a.b.example.com/")), Ok(()));
        assert_eq!(
            allowed.check(&t("https://example.com/")),
            Err(NotAllowed::Host)
        );
        assert_eq!(
            allowed.check(&t("https://evilexample.com/")),
            Err(NotAllowed::Host)
        );
        assert_eq!(
            allowed.check(&t("http://api.groq.com/")),
            Err(NotAllowed::Scheme)
        );
        assert_eq!(
            allowed.check(&t("https://api.groq.com:8443/")),
            Err(NotAllowed::Port)
        );
        assert_eq!(
            allowed.check(&t("https://0x7f.1/")),
            Err(NotAllowed::Class(AddressClass::Loopback))
        );
        // A pattern naming a private address does not allow the class by itself.
        let inside = AllowedTargets {
            hosts: vec![HostPattern::parse("10.1.2.3").unwrap()],
            ..AllowedTargets::default()
        };
        assert_eq!(
            inside.check(&t("http://10.1.2.3/")),
            Err(NotAllowed::Class(AddressClass::Private))
        );
        let inside = AllowedTargets {
            classes: vec![AddressClass::Private],
            ..inside
        };
        assert_eq!(inside.check(&t("http://10.1.2.3/")), Ok(()));
        assert_eq!(inside.check(&t("http://0x0a.1.2.3/")), Ok(()));
        assert_eq!(inside.check(&t("http://10.1.2.4/")), Err(NotAllowed::Host));
        // Metadata is its own class: allowing private addresses does not allow it.
        assert_eq!(
            inside.check(&t("http://169.254.169.254/")),
            Err(NotAllowed::Class(AddressClass::Metadata))
        );
        assert_eq!(
            HostPattern::parse("::1"),
            Some(HostPattern::Exact(Host::Ipv6(Ipv6Addr::LOCALHOST)))
        );
        assert_eq!(HostPattern::parse("*."), None);
        assert_eq!(HostPattern::parse("exa mple.com"), None);
    }
}
