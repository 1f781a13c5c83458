//! The admin API key, compared in constant time.

/// Shortest accepted admin key. Anything shorter is a configuration error, not a key.
pub const ADMIN_KEY_MIN_LEN: usize = 32;

/// The configured admin key, held as its blake3 hash.
///
/// Comparing hashes with `blake3::Hash`'s constant-time equality means a caller learns
/// nothing from timing: neither how many leading bytes matched nor the key's length.
pub struct AdminKey(blake3::Hash);

/// What the `ADMIN_KEY` secret says about the admin API.
pub enum AdminKeyState {
    /// Unset or empty: every admin call is refused (fail closed).
    NotConfigured,
    /// Set but too short to be a real secret.
    TooShort,
    Configured(AdminKey),
}

impl AdminKeyState {
    pub fn from_secret(secret: Option<&str>) -> Self {
        match secret.map(str::trim) {
            None | Some("") => AdminKeyState::NotConfigured,
            Some(s) if s.len() < ADMIN_KEY_MIN_LEN => AdminKeyState::TooShort,
            Some(s) => AdminKeyState::Configured(AdminKey(blake3::hash(s.as_bytes()))),
        }
    }
}

impl AdminKey {
    pub fn verify(&self, presented: &str) -> bool {
        blake3::hash(presented.as_bytes()) == self.0
    }
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminKey(<redacted>)")
    }
}
