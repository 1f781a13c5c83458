//! The user-agent table: browser family, major version, platform and device name.

use edge_sessions::core::user_agent::{BrowserFamily as B, Platform as P, UserAgent};

const CHROME_WIN: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const EDGE_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86";
const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI_MAC: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
const CHROME_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1";
const SAMSUNG_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36";
const OPERA_WIN: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0";
const CHROME_CROS: &str =
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const FIREFOX_ANDROID: &str = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0";

#[test]
fn the_common_browsers_and_platforms() {
    let cases = [
        (CHROME_WIN, B::Chrome, Some(131), P::Windows, "Chrome on Windows"),
        (EDGE_WIN, B::Edge, Some(131), P::Windows, "Edge on Windows"),
        (FIREFOX_LINUX, B::Firefox, Some(133), P::Linux, "Firefox on Linux"),
        (SAFARI_MAC, B::Safari, Some(18), P::MacOs, "Safari on macOS"),
        (SAFARI_IPHONE, B::Safari, Some(18), P::IOs, "Safari on iOS"),
        (CHROME_IOS, B::Chrome, Some(131), P::IOs, "Chrome on iOS"),
        (SAMSUNG_ANDROID, B::SamsungInternet, Some(26), P::Android, "Samsung Internet on Android"),
        (OPERA_WIN, B::Opera, Some(115), P::Windows, "Opera on Windows"),
        (CHROME_CROS, B::Chrome, Some(131), P::ChromeOs, "Chrome on ChromeOS"),
        (FIREFOX_ANDROID, B::Firefox, Some(133), P::Android, "Firefox on Android"),
    ];
    for (ua, family, major, platform, name) in cases {
        let parsed = UserAgent::parse(Some(ua), None);
        assert_eq!((parsed.family, parsed.major, parsed.platform), (family, major, platform), "{ua}");
        assert_eq!(parsed.device_name(), name);
    }
}

#[test]
fn anything_else_is_unknown() {
    for ua in [None, Some(""), Some("curl/8.5.0"), Some("python-requests/2.32"), Some("Mozilla/5.0")] {
        let parsed = UserAgent::parse(ua, None);
        assert_eq!(parsed.family, B::Unknown, "{ua:?}");
        assert_eq!(parsed.device_name(), "Unknown");
    }
    assert_eq!(UserAgent::parse(Some("Firefox/999999999"), None).major, None, "absurd versions are dropped");
    assert_eq!(UserAgent::parse(Some("Firefox/12"), None).device_name(), "Firefox", "no platform named");
}

#[test]
fn the_platform_client_hint_wins_when_it_names_a_known_platform() {
    // Chrome's reduced user agent on macOS still says "Macintosh"; the hint says macOS.
    let chrome_mac = CHROME_WIN.replace("Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7");
    assert_eq!(UserAgent::parse(Some(&chrome_mac), Some("\"macOS\"")).platform, P::MacOs);
    assert_eq!(UserAgent::parse(Some(CHROME_WIN), Some("\"Linux\"")).platform, P::Linux);
    assert_eq!(UserAgent::parse(Some(CHROME_WIN), Some("\"Chrome OS\"")).platform, P::ChromeOs);
    assert_eq!(
        UserAgent::parse(Some(CHROME_WIN), Some("\"Unknown\"")).platform,
        P::Windows,
        "an unknown hint is ignored"
    );
    assert_eq!(UserAgent::parse(Some(CHROME_WIN), Some("Windows")).platform, P::Windows, "unquoted too");
}

#[test]
fn an_update_changes_only_the_version() {
    let updated = CHROME_WIN.replace("Chrome/131.0.0.0", "Chrome/132.0.6834.83");
    let (old, new) = (UserAgent::parse(Some(CHROME_WIN), None), UserAgent::parse(Some(&updated), None));
    assert_eq!((old.family, old.platform), (new.family, new.platform));
    assert_eq!((old.major, new.major), (Some(131), Some(132)));
    assert_eq!(old.device_name(), new.device_name());
}
