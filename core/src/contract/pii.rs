//! `pii_risk`: how much of a privacy risk what the detectors found is, as a number from 0.0 to
//! 1.0, for the ACVPS envelope's `pii_risk.max` bound.
//!
//! **Definition.** Each detector has a weight by the category of what it finds
//! ([`Category`]): the weight of the most sensitive kind found is the risk, and nothing found
//! is 0.0. So `pii_risk.max: 0.0` means "no personal data at all" (the ACVPS example), `0.5`
//! lets contact details and network identifiers through but nothing that identifies a person
//! to a state or a bank or opens an account, and `1.0` lets everything through. A contract may
//! set a detector's weight itself (`envelope.pii_risk.weights`); custom detectors weigh 1.0
//! unless it does. Counts do not add up: two e-mail addresses are no more a breach of
//! `max: 0.4` than one (a count is bounded with `envelope.findings`).

/// What a detector finds, as a privacy risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Credentials: keys, tokens, webhook URLs. Whoever reads one can act as its owner.
    Secret,
    /// Payment instruments: card numbers, IBANs, crypto wallets. Money moves with them.
    Payment,
    /// Identifiers a state issues to a person (tax, social security, health, national id):
    /// identity theft starts with them; GDPR art. 87 and most privacy laws single them out.
    GovernmentId,
    /// Ways to reach a person: e-mail addresses, phone numbers. Personal data, often public.
    Contact,
    /// Numbers of organisations, in public registers (a bank's routing number, a company's
    /// ABN or ACN): they identify a business, not a person.
    Organisation,
    /// Network identifiers (IP addresses): personal data in law (CJEU C-582/14, Breyer), but
    /// they name a device or a network more than a person.
    Network,
}

impl Category {
    /// The category's weight (see the module doc).
    pub fn weight(self) -> f64 {
        match self {
            Category::Secret | Category::Payment | Category::GovernmentId => 1.0,
            Category::Contact => 0.5,
            Category::Organisation | Category::Network => 0.25,
        }
    }
}

/// Every built-in detector's category, by name (a test checks that the table and the
/// catalogue hold the same names).
pub const CATEGORIES: [(&str, Category); 49] = {
    use Category::*;
    [
        ("credit_card", Payment),
        ("ssn", GovernmentId),
        ("email", Contact),
        ("phone", Contact),
        ("iban", Payment),
        ("ip_address", Network),
        ("us_bank_routing", Organisation),
        ("crypto_wallet", Payment),
        ("aws_access_key", Secret),
        ("github_token", Secret),
        ("slack_token", Secret),
        ("private_key", Secret),
        ("jwt", Secret),
        ("openai_api_key", Secret),
        ("anthropic_api_key", Secret),
        ("google_api_key", Secret),
        ("groq_api_key", Secret),
        ("huggingface_token", Secret),
        ("xai_api_key", Secret),
        ("perplexity_api_key", Secret),
        ("replicate_api_token", Secret),
        ("openrouter_api_key", Secret),
        ("slack_webhook_url", Secret),
        ("gitlab_token", Secret),
        ("npm_token", Secret),
        ("pypi_token", Secret),
        ("stripe_key", Secret),
        ("twilio_api_key", Secret),
        ("sendgrid_api_key", Secret),
        ("discord_token", Secret),
        ("azure_storage_key", Secret),
        ("gcp_service_account", Secret),
        ("es_nif", GovernmentId),
        ("fi_hetu", GovernmentId),
        ("uk_nino", GovernmentId),
        ("in_pan", GovernmentId),
        ("it_fiscal_code", GovernmentId),
        ("sg_nric", GovernmentId),
        ("uk_nhs_number", GovernmentId),
        ("ca_sin", GovernmentId),
        ("in_aadhaar", GovernmentId),
        ("au_tfn", GovernmentId),
        ("au_abn", Organisation),
        ("au_acn", Organisation),
        ("au_medicare", GovernmentId),
        ("pl_pesel", GovernmentId),
        ("br_cpf", GovernmentId),
        ("kr_rrn", GovernmentId),
        ("us_itin", GovernmentId),
    ]
};

/// The weight of a detector by name: its category's for a built-in, 1.0 for any other (a
/// custom detector: the operator wrote it because what it finds matters).
pub fn default_weight(name: &str) -> f64 {
    CATEGORIES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(1.0, |(_, c)| c.weight())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::BUILT_INS;

    #[test]
    fn every_built_in_has_one_category() {
        assert_eq!(CATEGORIES.len(), BUILT_INS.len());
        for d in BUILT_INS.iter() {
            let rows = CATEGORIES.iter().filter(|(n, _)| *n == d.name).count();
            assert_eq!(rows, 1, "{} has {rows} rows in CATEGORIES", d.name);
        }
        for d in BUILT_INS.iter() {
            let w = default_weight(d.name);
            assert!((0.0..=1.0).contains(&w), "{}", d.name);
        }
    }

    #[test]
    fn weights_by_category() {
        assert_eq!(default_weight("credit_card"), 1.0);
        assert_eq!(default_weight("ssn"), 1.0);
        assert_eq!(default_weight("openai_api_key"), 1.0);
        assert_eq!(default_weight("email"), 0.5);
        assert_eq!(default_weight("phone"), 0.5);
        assert_eq!(default_weight("ip_address"), 0.25);
        assert_eq!(default_weight("au_abn"), 0.25);
        assert_eq!(default_weight("employee_id"), 1.0);
    }
}
