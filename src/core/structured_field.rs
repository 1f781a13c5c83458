//! The few RFC 9651 structured-field forms device-bound sessions (DBSC) use: writing a
//! String item, and reading the String item (its parameters ignored) of a request
//! header such as `Sec-Secure-Session-Id`.

/// `value` as an RFC 9651 String (`"…"` with `\` and `"` escaped); `None` when it holds a
/// character a String cannot carry (only printable ASCII can).
pub fn string_item(value: &str) -> Option<String> {
    if !value.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return None;
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

/// The String of a header holding one String item, parameters ignored (the spec says a
/// receiver SHOULD ignore them). A bare token is taken as the string too: the value is
/// only ever compared with one this worker issued, so leniency here admits nothing.
pub fn read_string_item(header: &str) -> Option<String> {
    let input = header.trim_matches(|c| c == ' ' || c == '\t');
    let Some(rest) = input.strip_prefix('"') else {
        let token = input.split(';').next().unwrap_or_default().trim_end();
        let ok = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic() && !b"\",;\\".contains(&b));
        return ok.then(|| token.to_owned());
    };
    let mut out = String::new();
    let mut chars = rest.chars();
    loop {
        match chars.next()? {
            '\\' => match chars.next()? {
                c @ ('"' | '\\') => out.push(c),
                _ => return None,
            },
            '"' => break,
            c if (' '..='~').contains(&c) => out.push(c),
            _ => return None,
        }
    }
    // Only parameters may follow the closing quote.
    let tail = chars.as_str().trim_end_matches([' ', '\t']);
    (tail.is_empty() || tail.starts_with(';')).then_some(out)
}
