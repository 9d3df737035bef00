//! Trust score, 0..=10, exactly as the IATP sidecar architecture document defines it.

use crate::manifest::{Manifest, Retention, Reversibility, TrustLevel};

pub const MAX_SCORE: u8 = 10;

pub fn base_score(level: TrustLevel) -> i32 {
    match level {
        TrustLevel::VerifiedPartner => 10,
        TrustLevel::Trusted => 7,
        TrustLevel::Standard => 5,
        TrustLevel::Unknown => 2,
        TrustLevel::Untrusted => 0,
    }
}

pub fn trust_score(m: &Manifest) -> u8 {
    score(
        m.trust_level,
        m.reversibility,
        m.retention,
        m.human_in_loop,
        m.training_consent,
    )
}

/// The formula of [`trust_score`] over the fields it reads, so that a manifest known only as
/// a summary (a remote target's, `remote_manifest::Summary`) scores the same way.
pub fn score(
    level: TrustLevel,
    reversibility: Reversibility,
    retention: Retention,
    human_in_loop: bool,
    training_consent: bool,
) -> u8 {
    let mut score = base_score(level);
    if reversibility != Reversibility::None {
        score += 2;
    }
    match retention.canonical() {
        Retention::Ephemeral => score += 1,
        Retention::Permanent => score -= 1,
        _ => {}
    }
    if human_in_loop {
        score -= 2;
    }
    if training_consent {
        score -= 1;
    }
    // Clamped, so the conversion cannot fail; 0 is the safe fallback regardless.
    u8::try_from(score.clamp(0, i32::from(MAX_SCORE))).unwrap_or(0)
}

#[cfg(test)]
mod tests;
