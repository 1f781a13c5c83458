//! A small user-agent table: the browser family and major version, and the platform,
//! from the `User-Agent` header and (when a Chromium browser sends it)
//! `Sec-CH-UA-Platform`. Enough to name a device in a listing ("Chrome on Windows") and
//! to tell a new browser from an updated one (`core::drift`); anything it does not know
//! is "Unknown". A table, not a parser crate: the wasm stays small, and the few rules
//! below are tested one by one (tests/core_user_agent.rs).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowserFamily {
    Chrome,
    Edge,
    Firefox,
    Safari,
    Opera,
    SamsungInternet,
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Windows,
    #[serde(rename = "macos")]
    MacOs,
    Linux,
    Android,
    #[serde(rename = "ios")]
    IOs,
    #[serde(rename = "chromeos")]
    ChromeOs,
    Unknown,
}

impl BrowserFamily {
    pub const fn name(self) -> &'static str {
        match self {
            BrowserFamily::Chrome => "Chrome",
            BrowserFamily::Edge => "Edge",
            BrowserFamily::Firefox => "Firefox",
            BrowserFamily::Safari => "Safari",
            BrowserFamily::Opera => "Opera",
            BrowserFamily::SamsungInternet => "Samsung Internet",
            BrowserFamily::Unknown => "Unknown",
        }
    }
}

impl Platform {
    pub const fn name(self) -> &'static str {
        match self {
            Platform::Windows => "Windows",
            Platform::MacOs => "macOS",
            Platform::Linux => "Linux",
            Platform::Android => "Android",
            Platform::IOs => "iOS",
            Platform::ChromeOs => "ChromeOS",
            Platform::Unknown => "Unknown",
        }
    }
}

/// What the table makes of one client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserAgent {
    pub family: BrowserFamily,
    /// The major version, where the family's token carries one.
    pub major: Option<u32>,
    pub platform: Platform,
}

/// Product names (the part before `/` in `Name/version`), most specific first: Edge,
/// Opera and Samsung Internet also say `Chrome/`, and everything Chromium-based and
/// Safari say `Safari/`. Safari's own version is in `Version/`; `Safari/` alone (an
/// embedded web view) carries the WebKit build, no version worth keeping.
const BROWSERS: [(&str, BrowserFamily); 12] = [
    ("Edg", BrowserFamily::Edge),
    ("EdgA", BrowserFamily::Edge),
    ("EdgiOS", BrowserFamily::Edge),
    ("OPR", BrowserFamily::Opera),
    ("SamsungBrowser", BrowserFamily::SamsungInternet),
    ("Firefox", BrowserFamily::Firefox),
    ("FxiOS", BrowserFamily::Firefox),
    ("CriOS", BrowserFamily::Chrome),
    ("Chrome", BrowserFamily::Chrome),
    ("HeadlessChrome", BrowserFamily::Chrome),
    ("Version", BrowserFamily::Safari),
    ("Safari", BrowserFamily::Safari),
];

/// Platform words of the comment in parentheses, most specific first: iOS says "like
/// Mac OS X", Android says "Linux", ChromeOS says "X11; CrOS".
const PLATFORMS: [(&str, Platform); 8] = [
    ("iPhone", Platform::IOs),
    ("iPad", Platform::IOs),
    ("iPod", Platform::IOs),
    ("Android", Platform::Android),
    ("CrOS", Platform::ChromeOs),
    ("Windows", Platform::Windows),
    ("Macintosh", Platform::MacOs),
    ("Linux", Platform::Linux),
];

impl UserAgent {
    /// Reads the two headers, in one pass over the user agent's words. `Sec-CH-UA-Platform`
    /// (a quoted string such as `"Windows"`) wins over the user agent's platform when it
    /// names a known one.
    pub fn parse(user_agent: Option<&str>, ch_platform: Option<&str>) -> UserAgent {
        let ua = user_agent.unwrap_or("");
        let mut browser: Option<(usize, &str)> = None; // (rank in BROWSERS, version)
        let mut platform: Option<usize> = None; // rank in PLATFORMS
        for word in ua.split(' ') {
            let word = word.trim_matches(|c| matches!(c, '(' | ')' | ';' | ','));
            match word.split_once('/') {
                Some((name, version)) => {
                    if let Some(rank) = BROWSERS.iter().position(|(token, _)| *token == name) {
                        if browser.is_none_or(|(best, _)| rank < best) {
                            browser = Some((rank, version));
                        }
                    }
                }
                None => {
                    if let Some(rank) = PLATFORMS.iter().position(|(token, _)| *token == word) {
                        if platform.is_none_or(|best| rank < best) {
                            platform = Some(rank);
                        }
                    }
                }
            }
        }
        let (family, major) = match browser {
            Some((rank, version)) => {
                let (token, family) = BROWSERS[rank];
                (family, if token == "Safari" { None } else { major_after(version) })
            }
            None => (BrowserFamily::Unknown, None),
        };
        let from_ua = platform.map_or(Platform::Unknown, |rank| PLATFORMS[rank].1);
        let platform = ch_platform.and_then(client_hint_platform).unwrap_or(from_ua);
        UserAgent { family, major, platform }
    }

    /// "Chrome on Windows"; the family alone when the platform is unknown; "Unknown"
    /// when the browser is.
    pub fn device_name(&self) -> String {
        match (self.family, self.platform) {
            (BrowserFamily::Unknown, _) => "Unknown".to_owned(),
            (family, Platform::Unknown) => family.name().to_owned(),
            (family, platform) => format!("{} on {}", family.name(), platform.name()),
        }
    }
}

/// The digits before the first dot (or the end of the token).
fn major_after(rest: &str) -> Option<u32> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 6 {
        return None;
    }
    rest[..digits].parse().ok()
}

/// `Sec-CH-UA-Platform`'s value, quoted or not.
fn client_hint_platform(raw: &str) -> Option<Platform> {
    let name = raw.trim().trim_matches('"');
    Some(match name {
        "Windows" => Platform::Windows,
        "macOS" => Platform::MacOs,
        "Linux" => Platform::Linux,
        "Android" => Platform::Android,
        "iOS" => Platform::IOs,
        "Chrome OS" | "Chromium OS" | "ChromeOS" => Platform::ChromeOs,
        _ => return None,
    })
}
