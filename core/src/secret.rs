//! Secrets from the configuration (HMAC keys): bytes whose `Debug` never prints them, so that
//! no log line or panic message of a configuration or policy can leak one.

/// A secret key. `Debug` prints `Secret(..)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(key: &[u8]) -> Secret {
        Secret(key.to_vec())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_does_not_print_the_secret() {
        assert_eq!(format!("{:?}", super::Secret::new(b"hush")), "Secret(..)");
    }
}
