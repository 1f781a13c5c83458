//! JSON whole numbers: `60.0` is an integer (JSON Schema 2020-12), `60.5` is not.

use edge_sessions::core::whole_number::{from_number, optional};
use serde::Deserialize;

#[derive(Deserialize, Debug, PartialEq)]
struct Body {
    #[serde(default, deserialize_with = "optional")]
    secs: Option<i64>,
    #[serde(default, deserialize_with = "optional")]
    aal: Option<u8>,
}

fn parse(json: &str) -> Result<Body, serde_json::Error> {
    serde_json::from_str(json)
}

#[test]
fn a_whole_float_is_an_integer_and_a_fraction_is_not() {
    assert_eq!(parse(r#"{"secs": 60.0, "aal": 2.0}"#).unwrap(), Body { secs: Some(60), aal: Some(2) });
    assert_eq!(parse(r#"{"secs": 60}"#).unwrap(), Body { secs: Some(60), aal: None });
    assert_eq!(parse(r#"{"secs": null}"#).unwrap(), Body { secs: None, aal: None }, "null reads as absent");
    assert_eq!(parse("{}").unwrap(), Body { secs: None, aal: None });
    for bad in [r#"{"secs": 60.5}"#, r#"{"secs": "60"}"#, r#"{"aal": 256}"#, r#"{"aal": -1}"#, r#"{"secs": 1e300}"#] {
        assert!(parse(bad).is_err(), "{bad}");
    }
    let n = |s: &str| from_number(&serde_json::from_str(s).unwrap());
    assert_eq!((n("-9223372036854775808"), n("6e1"), n("0.5")), (Some(i64::MIN), Some(60), None));
}
