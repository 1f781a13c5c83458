//! Path patterns, as `PUBLIC_PATHS`, `FRESH_PATHS` and `STRONG_PATHS` write them, and
//! how a request path is matched against them. Public paths match strictly (a path the
//! origin might read differently is not public); requirement patterns match every
//! reading (a requirement must never be dodged by spelling).

use crate::core::step_up::Freshness;
use percent_encoding::percent_decode_str;

/// Path patterns, as `PUBLIC_PATHS`, `FRESH_PATHS` and `STRONG_PATHS` write them: exact
/// paths (`/login`), or a directory written `/x/*`, which matches `/x/` and everything
/// below it (not `/x` itself, nor `/x-private`). A `*` anywhere else, or one not right
/// after a `/` (`/login*`), is refused: it would match at no segment boundary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathPatterns {
    exact: Vec<String>,
    /// Each ends with `/`.
    directories: Vec<String>,
}

/// `PUBLIC_PATHS` parses into the same patterns.
pub type PublicPaths = PathPatterns;

impl PathPatterns {
    /// A comma-separated list. Errors name the bad entry; the caller names the variable.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut paths = PathPatterns::default();
        for pattern in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            paths.add(pattern)?;
        }
        Ok(paths)
    }

    fn add(&mut self, pattern: &str) -> Result<(), String> {
        if !pattern.starts_with('/') {
            return Err(format!("'{pattern}' must start with '/'"));
        }
        match pattern.strip_suffix('*') {
            Some(prefix) if prefix.contains('*') => Err(format!("'{pattern}': '*' is only allowed at the end")),
            Some(prefix) if !prefix.ends_with('/') => {
                Err(format!("'{pattern}': write '{prefix}/*' ('*' matches whole path segments, after a '/')"))
            }
            Some(prefix) => {
                self.directories.push(prefix.to_owned());
                Ok(())
            }
            None if pattern.contains('*') => Err(format!("'{pattern}': '*' is only allowed at the end")),
            None => {
                self.exact.push(pattern.to_owned());
                Ok(())
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.directories.is_empty()
    }

    /// Whether `path` matches, taken literally.
    fn matches_literally(&self, path: &str) -> bool {
        self.exact.iter().any(|p| p == path) || self.directories.iter().any(|p| path.starts_with(p.as_str()))
    }

    /// Whether `path` (as the URL parser left it: dot segments resolved, percent-escapes
    /// kept) is public. **A path is public only if it matches literally, contains no `;`,
    /// and every percent-escape in it stands for a letter, a digit, a space, `-`, `_` or
    /// `~`.** Anything else may be read differently by the origin: an escaped `/`, `\`
    /// or `.` (`/assets/..%2Fadmin`), a `;` (Tomcat, Jetty and Spring read
    /// `/assets/..;/admin` as `/admin`), an escaped `%` (double decoding), `%u` escapes
    /// (IIS), overlong UTF-8 (`%c0%ae`), and any other non-ASCII escape.
    pub fn matches(&self, path: &str) -> bool {
        !path.contains(';') && has_only_plain_escapes(path) && self.matches_literally(path)
    }

    /// For patterns that impose a requirement (fresh, strong): whether `path` matches
    /// either as sent or with its percent-escapes decoded once (and any `;` parameters
    /// cut), so an escape can never dodge a requirement the origin applies to the
    /// decoded path.
    pub fn matches_any_reading(&self, path: &str) -> bool {
        if self.matches_literally(path) {
            return true;
        }
        let decoded = percent_decode_lossy(path);
        // Servlet containers drop `;params` from each segment: `/a;x=1/b` is `/a/b`.
        let without_params: Vec<&str> = decoded.split('/').map(|seg| seg.split(';').next().unwrap_or("")).collect();
        self.matches_literally(&decoded) || self.matches_literally(&without_params.join("/"))
    }
}

/// Every `%XX` is a valid escape of an unreserved-safe ASCII character.
fn has_only_plain_escapes(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let Some(value) = bytes.get(i + 1..i + 3).and_then(hex_pair) else { return false };
            if !(value.is_ascii_alphanumeric() || matches!(value, b' ' | b'-' | b'_' | b'~')) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    Some(digit(pair[0])? * 16 + digit(pair[1])?)
}

/// One round of percent-decoding; invalid escapes stay as they are, and bytes that do
/// not form UTF-8 become U+FFFD.
fn percent_decode_lossy(path: &str) -> String {
    percent_decode_str(path).decode_utf8_lossy().into_owned()
}

/// `FRESH_PATHS`: paths whose requests need a recent (and possibly strong) login.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FreshPaths(Vec<(PathPatterns, Freshness)>);

impl FreshPaths {
    /// `pattern=max_age_secs[:aalN]`, comma-separated: `/settings/*=600,/billing/*=300:aal2`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut rules = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (pattern, requirement) =
                entry.split_once('=').ok_or_else(|| format!("'{entry}' must be pattern=max_age_secs[:aalN]"))?;
            let (max_age, aal) = match requirement.split_once(':') {
                Some((max_age, aal)) => {
                    let level = aal
                        .strip_prefix("aal")
                        .ok_or_else(|| format!("'{entry}': write the level as aal1, aal2 or aal3"))?;
                    (max_age, Some(level))
                }
                None => (requirement, None),
            };
            let freshness =
                Freshness::parse(Some(max_age.trim()), aal.map(str::trim)).map_err(|e| format!("'{entry}': {e}"))?;
            let mut patterns = PathPatterns::default();
            patterns.add(pattern.trim())?;
            rules.push((patterns, freshness));
        }
        Ok(FreshPaths(rules))
    }

    /// The strictest requirement among the rules that match `path`, if any does.
    pub fn requirement(&self, path: &str) -> Option<Freshness> {
        self.0.iter().filter(|(p, _)| p.matches_any_reading(path)).map(|(_, f)| *f).reduce(|a, b| Freshness {
            max_age_secs: match (a.max_age_secs, b.max_age_secs) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            },
            min_aal: a.min_aal.max(b.min_aal),
        })
    }
}
