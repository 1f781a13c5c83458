//! Slicing a request URL as the runtime serialises it: the same parts WHATWG URL parsing
//! would give, for the shapes a worker receives.

use edge_sessions::core::request_url::RequestUrl;

fn parts(url: &str) -> (&str, &str, &str, Option<&str>) {
    let p = RequestUrl::split(url);
    (&url[p.scheme], &url[p.authority], &url[p.path], p.query.map(|q| &url[q]))
}

#[test]
fn splits_scheme_authority_path_and_query() {
    assert_eq!(parts("https://example.com/v1/session"), ("https", "example.com", "/v1/session", None));
    assert_eq!(
        parts("http://127.0.0.1:8787/v1/session?consistency=strong&max_age=60"),
        ("http", "127.0.0.1:8787", "/v1/session", Some("consistency=strong&max_age=60"))
    );
    assert_eq!(parts("https://[::1]:8443/a/b?x"), ("https", "[::1]:8443", "/a/b", Some("x")));
}

#[test]
fn userinfo_is_not_part_of_the_authority() {
    assert_eq!(parts("https://user:pw@example.com:8443/a?b"), ("https", "example.com:8443", "/a", Some("b")));
    assert_eq!(parts("https://a@b@example.com/"), ("https", "example.com", "/", None));
}

#[test]
fn root_path_and_empty_query_are_kept_apart() {
    assert_eq!(parts("https://example.com/"), ("https", "example.com", "/", None));
    assert_eq!(parts("https://example.com/?"), ("https", "example.com", "/", Some("")));
    assert_eq!(parts("https://example.com/page?"), ("https", "example.com", "/page", Some("")));
}

#[test]
fn encoded_question_marks_stay_in_the_path() {
    // The runtime percent-encodes `?` inside a path, so only the first raw one starts
    // the query; later ones belong to it.
    assert_eq!(parts("https://e.com/a%3Fb?q=1?2"), ("https", "e.com", "/a%3Fb", Some("q=1?2")));
}

#[test]
fn a_fragment_is_neither_path_nor_query() {
    assert_eq!(parts("https://e.com/a#frag"), ("https", "e.com", "/a", None));
    assert_eq!(parts("https://e.com/a?x=1#frag?y"), ("https", "e.com", "/a", Some("x=1")));
}

#[test]
fn strings_that_are_not_serialised_urls_do_not_panic() {
    assert_eq!(parts("/only/a/path?q"), ("", "", "/only/a/path", Some("q")));
    assert_eq!(parts("https://host-without-path"), ("https", "host-without-path", "", None));
    assert_eq!(parts(""), ("", "", "", None));
    assert_eq!(parts("https://#"), ("https", "", "", None));
    assert_eq!(parts("://"), ("", "", "", None));
}

proptest::proptest! {
    /// Any string splits into in-bounds ranges on character boundaries, in order.
    #[test]
    fn any_string_splits_into_slices_in_order(url in "\\PC{0,40}", prefix in "(https?://)?") {
        let url = format!("{prefix}{url}");
        let p = RequestUrl::split(&url);
        let _ = (&url[p.scheme.clone()], &url[p.authority.clone()], &url[p.path.clone()]);
        proptest::prop_assert!(p.scheme.end <= p.authority.start && p.authority.end == p.path.start);
        proptest::prop_assert!(!url[p.authority.clone()].contains('@'));
        if let Some(q) = p.query {
            let _ = &url[q.clone()];
            proptest::prop_assert!(p.path.end < q.start);
        }
    }
}
