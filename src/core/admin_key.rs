//! The admin API keys, compared in constant time: `ADMIN_KEY`, and while a rotation is
//! under way `ADMIN_KEY_PREVIOUS` (docs/deployment.md, "Rotating the admin key").

/// Shortest accepted admin key. Anything shorter is a configuration error, not a key.
pub const ADMIN_KEY_MIN_LEN: usize = 32;

/// One configured admin key, held as its blake3 hash.
///
/// Comparing hashes with `blake3::Hash`'s constant-time equality means a caller learns
/// nothing from timing: neither how many leading bytes matched nor the key's length.
pub struct AdminKey(blake3::Hash);

/// The keys the admin API accepts: the current one and, during a rotation, the previous.
pub struct AdminKeys {
    current: AdminKey,
    previous: Option<AdminKey>,
}

/// What the `ADMIN_KEY` and `ADMIN_KEY_PREVIOUS` secrets say about the admin API.
pub enum AdminKeyState {
    /// `ADMIN_KEY` unset or empty: every admin call is refused (fail closed), whatever
    /// `ADMIN_KEY_PREVIOUS` holds. A previous key alone never opens the API.
    NotConfigured,
    /// The named secret is set but too short to be a real secret.
    TooShort(&'static str),
    Configured(AdminKeys),
}

impl AdminKeyState {
    pub fn from_secrets(current: Option<&str>, previous: Option<&str>) -> Self {
        let Some(current) = parse("ADMIN_KEY", current) else { return AdminKeyState::NotConfigured };
        let current = match current {
            Ok(key) => key,
            Err(name) => return AdminKeyState::TooShort(name),
        };
        match parse("ADMIN_KEY_PREVIOUS", previous).transpose() {
            Ok(previous) => AdminKeyState::Configured(AdminKeys { current, previous }),
            Err(name) => AdminKeyState::TooShort(name),
        }
    }
}

/// `None` when unset or blank; `Err(name)` when too short.
fn parse(name: &'static str, secret: Option<&str>) -> Option<Result<AdminKey, &'static str>> {
    match secret.map(str::trim) {
        None | Some("") => None,
        Some(s) if s.len() < ADMIN_KEY_MIN_LEN => Some(Err(name)),
        Some(s) => Some(Ok(AdminKey(blake3::hash(s.as_bytes())))),
    }
}

impl AdminKeys {
    /// Whether `presented` is one of the keys. Both comparisons always run (with no
    /// previous key, the current one is compared twice) and are combined without
    /// short-circuiting, so the time taken says neither which key matched nor whether a
    /// previous key is set.
    pub fn verify(&self, presented: &str) -> bool {
        let presented = blake3::hash(presented.as_bytes());
        let previous = self.previous.as_ref().unwrap_or(&self.current);
        (presented == self.current.0) | (presented == previous.0)
    }

    /// Whether `ADMIN_KEY_PREVIOUS` is set (the readiness check reports it).
    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminKey(<redacted>)")
    }
}

impl std::fmt::Debug for AdminKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminKeys").field("current", &self.current).field("previous", &self.previous).finish()
    }
}
