//! The parts of a request's URL, found by slicing the string the runtime hands over.
//!
//! The runtime gives every request a URL it has already parsed and serialised (WHATWG).
//! In that form a special scheme's path always starts at the first `/` after the host,
//! `?` and `#` inside the path are percent-encoded, and a default port is left out. So
//! slicing is exact, and the edge never parses a URL again: the `url` crate, with the
//! IDNA tables it links, stays out of the worker.

use std::ops::Range;

/// Byte ranges into the serialised URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUrl {
    /// `https`, `http`.
    pub scheme: Range<usize>,
    /// `host[:port]`, without any `user:password@` in front of it.
    pub authority: Range<usize>,
    /// From the first `/` after the host, never decoded.
    pub path: Range<usize>,
    /// After the `?`, if the URL has one (possibly empty).
    pub query: Option<Range<usize>>,
}

impl RequestUrl {
    /// Splits a serialised URL. A string that is not one (no `scheme://`, no path)
    /// still splits without panicking: into an empty scheme, or an empty path.
    pub fn split(url: &str) -> RequestUrl {
        let (scheme, host_start) = match url.find("://") {
            Some(i) => (0..i, i + 3),
            None => (0..0, 0),
        };
        let end = url.find('#').unwrap_or(url.len()).max(host_start);
        let path_start = url[host_start..end].find('/').map_or(end, |i| host_start + i);
        let (path, query) = match url[path_start..end].find('?') {
            Some(i) => (path_start..path_start + i, Some(path_start + i + 1..end)),
            None => (path_start..end, None),
        };
        // A Host header can carry `user@`, which the runtime then serialises as userinfo;
        // it is never part of the host an origin or a forwarded header names.
        let authority_start = url[host_start..path_start].rfind('@').map_or(host_start, |i| host_start + i + 1);
        RequestUrl { scheme, authority: authority_start..path_start, path, query }
    }
}
