//! Path patterns, as `PUBLIC_PATHS`, `FRESH_PATHS` and `STRONG_PATHS` write them, and
//! how a request path is matched against them. The two uses err in opposite directions:
//!
//! - **Public paths match strictly** ([`PathPatterns::matches`]): a path the origin might
//!   read differently is not public, because over-matching there would open a page.
//! - **Requirement paths match broadly** ([`RequirementPaths::covers`]): a requirement
//!   (a strong check, a recent login) must not be dodged by how a path is spelled, so
//!   they match every reading a common origin might route on: ASCII case folded (Express,
//!   Koa, ASP.NET, IIS), runs of `/` collapsed (nginx), one trailing `/` ignored
//!   (Express), `\` read as `/` and trailing dots and spaces dropped from each segment
//!   (IIS), `/x/*` covering `/x` itself; each of these on the path as sent, decoded once,
//!   and with `;parameters` cut (servlet containers). Readings beyond these (Unicode case
//!   folding, double decoding) need patterns of their own, or the fail-closed form:
//!   `/*` with `!exemptions`, which match strictly.

use crate::core::step_up::Freshness;
use percent_encoding::percent_decode_str;

/// Exact paths (`/login`), or a directory written `/x/*`, which matches `/x/` and
/// everything below it (strictly: not `/x` itself, nor `/x-private`). A `*` anywhere
/// else, or one not right after a `/` (`/login*`), is refused: it would match at no
/// segment boundary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathPatterns {
    exact: Vec<String>,
    /// Each ends with `/`.
    directories: Vec<String>,
}

/// `PUBLIC_PATHS`: strict patterns.
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
    /// every percent-escape in it stands for a letter, a digit, a space, `-`, `_` or `~`,
    /// and no segment ends in a dot or a space.** Anything else may be read differently
    /// by the origin: an escaped `/`, `\` or `.` (`/assets/..%2Fadmin`), a `;` (Tomcat,
    /// Jetty and Spring read `/assets/..;/admin` as `/admin`), an escaped `%` (double
    /// decoding), `%u` escapes (IIS), overlong UTF-8 (`%c0%ae`), any other non-ASCII
    /// escape, and a segment Windows trims (`/assets/..%20/admin` is `/admin` there).
    pub fn matches(&self, path: &str) -> bool {
        !path.contains(';')
            && has_only_plain_escapes(path)
            && !path.split('/').any(|segment| segment.ends_with('.') || segment.ends_with("%20"))
            && self.matches_literally(path)
    }

    /// The same patterns, each in its broad reading (see [`requirement_form`]).
    fn broadened(&self) -> Broad {
        let exact = self.exact.iter().map(|p| requirement_form(p)).collect();
        let directories = self.directories.iter().map(|p| requirement_form(p)).collect();
        Broad { exact, directories }
    }
}

/// Patterns in their broad reading: exact paths, and directory prefixes that also cover
/// the directory itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Broad {
    exact: Vec<String>,
    /// Without a trailing `/`; `/` alone covers every path.
    directories: Vec<String>,
}

impl Broad {
    fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.directories.is_empty()
    }

    /// Whether a path already in its broad reading is covered.
    fn covers(&self, form: &str) -> bool {
        self.exact.iter().any(|p| p == form)
            || self.directories.iter().any(|dir| {
                dir == "/" || form == dir || (form.starts_with(dir.as_str()) && form.as_bytes()[dir.len()] == b'/')
            })
    }
}

/// Patterns that impose a requirement: `STRONG_PATHS`. Entries written `!/pattern` are
/// exemptions: a path that strictly matches one is not covered (`/*,!/assets/*` checks
/// everything but the assets).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequirementPaths {
    covered: Broad,
    exempt: PathPatterns,
}

impl RequirementPaths {
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut covered = PathPatterns::default();
        let mut exempt = PathPatterns::default();
        for entry in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match entry.strip_prefix('!') {
                Some(exemption) => exempt.add(exemption.trim())?,
                None => covered.add(entry)?,
            }
        }
        Ok(RequirementPaths { covered: covered.broadened(), exempt })
    }

    /// Whether the requirement applies to `path`, in any of its readings, unless the
    /// path is strictly one of the exemptions.
    pub fn covers(&self, path: &str) -> bool {
        // No patterns (the usual configuration): nothing to read the path for.
        !self.covered.is_empty()
            && !self.exempt.matches(path)
            && readings(path).iter().any(|reading| self.covered.covers(reading))
    }
}

/// `FRESH_PATHS`: paths whose requests need a recent (and possibly strong) login,
/// matched broadly like [`RequirementPaths`], with the same `!exemptions`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FreshPaths {
    rules: Vec<(Broad, Freshness)>,
    exempt: PathPatterns,
}

impl FreshPaths {
    /// `pattern=max_age_secs[:aalN]` or `!pattern`, comma-separated:
    /// `/settings/*=600,/billing/*=300:aal2`, or `/*=3600,!/help/*`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut fresh = FreshPaths::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Some(exemption) = entry.strip_prefix('!') {
                fresh.exempt.add(exemption.trim())?;
                continue;
            }
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
            fresh.rules.push((patterns.broadened(), freshness));
        }
        Ok(fresh)
    }

    /// The strictest requirement among the rules that cover `path`, if any does.
    pub fn requirement(&self, path: &str) -> Option<Freshness> {
        // No rules (the usual configuration): nothing to read the path for.
        if self.rules.is_empty() || self.exempt.matches(path) {
            return None;
        }
        let readings = readings(path);
        self.rules
            .iter()
            .filter(|(patterns, _)| readings.iter().any(|reading| patterns.covers(reading)))
            .map(|(_, f)| *f)
            .reduce(|a, b| Freshness {
                max_age_secs: match (a.max_age_secs, b.max_age_secs) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                },
                min_aal: a.min_aal.max(b.min_aal),
            })
    }
}

/// Every reading of `path` a requirement must hold for, each in its broad form: as
/// sent, decoded once, and decoded with each segment's `;parameters` cut.
fn readings(path: &str) -> [String; 3] {
    let decoded = percent_decode_str(path).decode_utf8_lossy().into_owned();
    // Servlet containers drop `;params` from each segment: `/a;x=1/b` is `/a/b`.
    let without_params: Vec<&str> = decoded.split('/').map(|seg| seg.split(';').next().unwrap_or("")).collect();
    [requirement_form(path), requirement_form(&decoded), requirement_form(&without_params.join("/"))]
}

/// A path as a lenient origin may route it: ASCII lower case, `\\` as `/`, empty
/// segments dropped (so runs of `/` and a trailing `/` vanish), dot segments resolved
/// (a `..` that only decoding or cutting `;params` reveals, which the URL parser left
/// alone, and `.. ` that IIS trims to `..`), trailing dots and spaces cut from every
/// other segment. Always starts with `/`.
pub fn requirement_form(path: &str) -> String {
    let lower = path.to_ascii_lowercase().replace('\\', "/");
    let mut segments: Vec<&str> = Vec::new();
    for raw in lower.split('/') {
        // The dot segments are recognised before trailing dots are cut, or `..` would
        // shrink to nothing and step up nowhere.
        let segment = raw.trim_end_matches(' ');
        if segment == ".." {
            segments.pop();
            continue;
        }
        let kept = segment.trim_end_matches(['.', ' ']);
        if !kept.is_empty() {
            segments.push(kept);
        }
    }
    format!("/{}", segments.join("/"))
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
