//! STUB (replaced by the i14-crypto branch).
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys(Vec<(String, Vec<u8>)>);
#[derive(Debug)]
pub struct KeyError {
    pub key_id: String,
}
impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key_id)
    }
}
impl TrustedKeys {
    pub fn from_base64<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TrustedKeys, KeyError> {
        Ok(TrustedKeys(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
        ))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
#[derive(Debug)]
pub struct AttestationRecord;
impl AttestationRecord {
    pub fn parse(_b: &[u8]) -> Result<AttestationRecord, String> {
        Ok(AttestationRecord)
    }
}
pub struct Verified {
    pub agent_id: String,
    pub expires_unix_ms: i64,
}
pub fn verify(
    _r: &AttestationRecord,
    _k: &TrustedKeys,
    _n: u64,
    _m: u64,
) -> Result<Verified, String> {
    Err(String::new())
}
