//! Base64: the standard alphabet with padding (webhook secrets and tags, event seals) and
//! base64url without (tokens' neighbours: bound cookies, challenges, JWK members, JWS).
//!
//! Written out rather than taken from the `base64` crate, whose generic engine was 6 KB
//! of the wasm (docs/performance.md, "Size"). Decoding is as strict as that crate's
//! `STANDARD` and `URL_SAFE_NO_PAD`: canonical padding or none, no other bytes, and the
//! unused bits of the last symbol zero, so every byte string has one encoding.
//! `tests/core_base64.rs` compares the two on generated input.

/// An alphabet, and whether encodings are padded to a multiple of four with `=`.
pub struct Codec {
    alphabet: &'static [u8; 64],
    padded: bool,
}

/// The encoding was not the canonical one of any byte string.
#[derive(Debug, PartialEq, Eq)]
pub struct DecodeError;

pub const STANDARD: Codec =
    Codec { alphabet: b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", padded: true };

pub const URL_SAFE_NO_PAD: Codec =
    Codec { alphabet: b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", padded: false };

impl Codec {
    pub fn encode(&self, bytes: impl AsRef<[u8]>) -> String {
        self.encode_bytes(bytes.as_ref())
    }

    pub fn decode(&self, text: impl AsRef<[u8]>) -> Result<Vec<u8>, DecodeError> {
        self.decode_bytes(text.as_ref())
    }

    fn encode_bytes(&self, bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let group = chunk.iter().enumerate().fold(0u32, |group, (i, &b)| group | u32::from(b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(char::from(self.alphabet[(group >> (18 - 6 * i) & 63) as usize]));
            }
            if self.padded {
                for _ in chunk.len()..3 {
                    out.push('=');
                }
            }
        }
        out
    }

    fn decode_bytes(&self, text: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let symbols = if self.padded {
            if !text.len().is_multiple_of(4) {
                return Err(DecodeError);
            }
            // In a multiple of four, at most two `=` can only fill the last group: one
            // after three symbols, two after two.
            let padding = text.iter().rev().take_while(|&&b| b == b'=').count();
            if padding > 2 {
                return Err(DecodeError);
            }
            &text[..text.len() - padding]
        } else {
            text
        };
        if symbols.len() % 4 == 1 {
            return Err(DecodeError);
        }
        let mut out = Vec::with_capacity(symbols.len() * 3 / 4);
        for chunk in symbols.chunks(4) {
            let mut group = 0u32;
            for (i, &symbol) in chunk.iter().enumerate() {
                group |= self.value_of(symbol)? << (18 - 6 * i);
            }
            let bytes = chunk.len() - 1;
            // The bits of the last symbol that fall outside the last byte must be zero.
            if group & ((1 << (24 - 8 * bytes)) - 1) != 0 {
                return Err(DecodeError);
            }
            out.extend((0..bytes).map(|i| (group >> (16 - 8 * i)) as u8));
        }
        Ok(out)
    }

    fn value_of(&self, symbol: u8) -> Result<u32, DecodeError> {
        self.alphabet.iter().position(|&a| a == symbol).map(|v| v as u32).ok_or(DecodeError)
    }
}
