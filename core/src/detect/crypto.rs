//! Bitcoin addresses: Base58Check (P2PKH `1…`, P2SH `3…`, testnet `m…`/`n…`/`2…`; version byte
//! and a double SHA-256 checksum) and Bech32/Bech32m segwit addresses (`bc1…`, `tb1…`; BCH
//! checksum, Bech32 for witness version 0, Bech32m for 1 to 16).

use sha2::{Digest, Sha256};

use super::catalogue::{BuiltIn, DigitWord};
use super::text::{at, is_word, word_end};

pub(super) struct CryptoWallet;

impl BuiltIn for CryptoWallet {
    const NAME: &'static str = "crypto_wallet";
    const FINDS: &'static str = "Bitcoin addresses: Base58Check (`1…`, `3…`, testnet; version byte and double SHA-256 checksum) and Bech32/Bech32m (`bc1…`, `tb1…`; checksum per witness version).";
    const DIGIT_WORD: bool = true;
    /// Base58 addresses that start with a digit (`1…`, `3…`, `2…`).
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        (w.len() >= 26)
            .then(|| match_base58(w.t, w.start))
            .flatten()
    }
    const LETTER_WORD: bool = true;
    /// Bech32 (`bc1…`, `tb1…`) and testnet Base58 (`m…`, `n…`) addresses.
    fn at_letter_word(t: &[u8], start: usize, end: usize) -> Option<usize> {
        let len = end - start;
        match at(t, start)? {
            b'b' | b't' | b'B' | b'T' if len >= 14 => match_bech32(t, start),
            b'm' | b'n' if len >= 26 => match_base58(t, start),
            _ => None,
        }
    }
}

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58_value(b: u8) -> Option<u32> {
    BASE58
        .iter()
        .position(|&c| c == b)
        .and_then(|p| u32::try_from(p).ok())
}

/// At a word start: a Base58Check address (the whole word, 26 to 35 characters).
pub(super) fn match_base58(t: &[u8], start: usize) -> Option<usize> {
    if !matches!(at(t, start)?, b'1' | b'3' | b'm' | b'n' | b'2') {
        return None;
    }
    let end = word_end(t, start);
    let word = t.get(start..end)?;
    if !(26..=35).contains(&word.len()) || !word.iter().any(u8::is_ascii_alphabetic) {
        return None;
    }
    // Base58 to 25 bytes, big-endian.
    let mut bytes = [0u8; 25];
    for &c in word {
        let mut carry = base58_value(c)?;
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return None; // more than 25 bytes
        }
    }
    let leading_ones = word.iter().take_while(|&&c| c == b'1').count();
    let leading_zeros = bytes.iter().take_while(|&&b| b == 0).count();
    // Each leading '1' stands for a leading zero byte, and only those do.
    if leading_ones != leading_zeros {
        return None;
    }
    let (payload, checksum) = bytes.split_at(21);
    let version = *payload.first()?;
    if !matches!(version, 0x00 | 0x05 | 0x6f | 0xc4) {
        return None;
    }
    let hash = Sha256::digest(Sha256::digest(payload));
    (hash.get(..4) == Some(checksum)).then_some(end)
}

const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// At a word start: a Bech32/Bech32m segwit address (`bc1…`, `tb1…`; one case throughout).
pub(super) fn match_bech32(t: &[u8], start: usize) -> Option<usize> {
    let end = word_end(t, start);
    let word = t.get(start..end)?;
    if !(14..=74).contains(&word.len()) || at(t, end).is_some_and(is_word) {
        return None;
    }
    let lower = word.iter().all(|b| !b.is_ascii_uppercase());
    let upper = word.iter().all(|b| !b.is_ascii_lowercase());
    if !lower && !upper {
        return None;
    }
    let hrp_len = if word
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"bc1") || p.eq_ignore_ascii_case(b"tb1"))
    {
        2
    } else {
        return None;
    };
    let hrp: Vec<u8> = word
        .get(..hrp_len)?
        .iter()
        .map(u8::to_ascii_lowercase)
        .collect();
    let data: Vec<u8> = word
        .get(hrp_len + 1..)?
        .iter()
        .map(|&c| {
            BECH32
                .iter()
                .position(|&x| x == c.to_ascii_lowercase())
                .and_then(|p| u8::try_from(p).ok())
        })
        .collect::<Option<_>>()?;
    if data.len() < 7 {
        return None;
    }
    let expanded = hrp
        .iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|c| c & 31))
        .chain(data.iter().copied());
    let witness_version = *data.first()?;
    let expected = match witness_version {
        0 => 1,
        1..=16 => 0x2bc8_30a3,
        _ => return None,
    };
    (polymod(expanded) == expected).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58check() {
        for a in [
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
        ] {
            let t = format!("to {a}.");
            assert_eq!(match_base58(t.as_bytes(), 3), Some(3 + a.len()), "{a}");
        }
        let bad = "to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3.";
        assert_eq!(match_base58(bad.as_bytes(), 3), None, "checksum");
        assert_eq!(
            match_base58(b"x 1234567890123456789012345678 y", 2),
            None,
            "digits only"
        );
    }

    #[test]
    fn bech32() {
        for a in [
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
        ] {
            let t = format!("to {a}.");
            assert_eq!(match_bech32(t.as_bytes(), 3), Some(3 + a.len()), "{a}");
        }
        assert_eq!(
            match_bech32(b"x bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr y", 2),
            None,
            "checksum"
        );
        assert_eq!(
            match_bech32(b"x bc1Qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq y", 2),
            None,
            "mixed case"
        );
    }
}
