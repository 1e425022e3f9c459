//! A fast reader for the common shape of an access token's payload: a flat
//! JSON object holding exactly the registered claims.
//!
//! It accepts a strict subset of JSON (no escapes, integers only, a single
//! audience, no other keys, no duplicates) and for that subset yields what `serde_json` would.
//! Anything outside the subset returns `None`, and the caller parses the
//! payload with `serde_json` instead, so the reader can only ever be faster,
//! never more lenient.

/// The registered claims, borrowed from the payload.
pub(crate) struct Flat<'a> {
    pub(crate) iss: &'a str,
    pub(crate) aud: &'a str,
    pub(crate) sub: &'a str,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) nbf: Option<i64>,
    pub(crate) jti: &'a str,
    pub(crate) sid: &'a str,
}

#[derive(Default)]
struct Seen<'a> {
    iss: Option<&'a str>,
    aud: Option<&'a str>,
    sub: Option<&'a str>,
    iat: Option<i64>,
    exp: Option<i64>,
    nbf: Option<Option<i64>>,
    jti: Option<&'a str>,
    sid: Option<&'a str>,
}

/// Reads `json` if it is in the subset, or returns `None`.
pub(crate) fn read(json: &[u8]) -> Option<Flat<'_>> {
    // Checked once for the whole payload, so strings can be sliced out of
    // it at their quotes (always character boundaries) without checking
    // each again.
    let text = std::str::from_utf8(json).ok()?;
    let mut r = Reader { json, text, at: 0 };
    let mut seen = Seen::default();

    r.expect(b'{')?;
    loop {
        let key = r.string()?;
        r.expect(b':')?;
        match key {
            "iss" => once(&mut seen.iss, r.string()?)?,
            "aud" => once(&mut seen.aud, r.string()?)?,
            "sub" => once(&mut seen.sub, r.string()?)?,
            "iat" => once(&mut seen.iat, r.integer()?)?,
            "exp" => once(&mut seen.exp, r.integer()?)?,
            "nbf" => once(&mut seen.nbf, r.null_or_integer()?)?,
            "jti" => once(&mut seen.jti, r.string()?)?,
            "sid" => once(&mut seen.sid, r.string()?)?,
            _ => return None,
        }
        match r.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    r.skip_ws();
    if r.at != json.len() {
        return None;
    }

    Some(Flat {
        iss: seen.iss?,
        aud: seen.aud?,
        sub: seen.sub?,
        iat: seen.iat?,
        exp: seen.exp?,
        nbf: seen.nbf.flatten(),
        jti: seen.jti?,
        sid: seen.sid?,
    })
}

fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

struct Reader<'a> {
    json: &'a [u8],
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.json.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not white space.
    fn next(&mut self) -> Option<u8> {
        self.skip_ws();
        let byte = *self.json.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let end = start + plain_len(&self.json[start..]);
        if self.json.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// An integer in JSON's syntax that fits an `i64`, with no fraction,
    /// exponent or minus sign on zero.
    fn integer(&mut self) -> Option<i64> {
        self.skip_ws();
        let negative = self.json.get(self.at) == Some(&b'-');
        let start = self.at + usize::from(negative);
        let mut end = start;
        let mut value: i64 = 0;
        while let Some(&digit @ b'0'..=b'9') = self.json.get(end) {
            let digit = i64::from(digit - b'0');
            value = value.checked_mul(10)?;
            value = if negative {
                value.checked_sub(digit)?
            } else {
                value.checked_add(digit)?
            };
            end += 1;
        }
        let digits = end - start;
        let leading_zero = digits > 1 && self.json[start] == b'0';
        // `serde_json` reads `-0` as the float -0.0, which is no `i64`;
        // leaving it to `serde_json` keeps this reader a strict subset.
        let minus_zero = negative && value == 0;
        if digits == 0
            || leading_zero
            || minus_zero
            || matches!(self.json.get(end), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        self.at = end;
        Some(value)
    }

    fn null_or_integer(&mut self) -> Option<Option<i64>> {
        self.skip_ws();
        if self.json[self.at..].starts_with(b"null") {
            self.at += 4;
            return Some(None);
        }
        self.integer().map(Some)
    }
}

/// How many bytes at the start of `bytes` can stand in a JSON string as
/// they are: none is a quote, a backslash or a control character. Eight
/// bytes are tested at a time, so a short string costs one step.
fn plain_len(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // The lowest flagged lane is exactly the first byte that is zero, or
    // below `n` (n <= 0x80); lanes above it may be flagged spuriously.
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS;

    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let special = zero(word ^ (ONES * u64::from(b'"')))
            | zero(word ^ (ONES * u64::from(b'\\')))
            | below(word, 0x20);
        if special != 0 {
            return at + special.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .take_while(|&&b| b >= 0x20 && b != b'"' && b != b'\\')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::AccessClaims;

    /// Whatever the reader accepts, serde_json reads the same way.
    fn agrees(json: &str) -> bool {
        let Some(flat) = read(json.as_bytes()) else {
            return false;
        };
        let full: AccessClaims = serde_json::from_str(json).expect("serde_json refused it");
        assert_eq!(flat.iss, full.iss());
        assert_eq!(vec![flat.aud], full.aud().collect::<Vec<_>>());
        assert_eq!(
            (flat.sub, flat.jti, flat.sid),
            (full.sub(), full.jti(), full.sid())
        );
        assert_eq!(
            (flat.iat, flat.exp, flat.nbf),
            (full.iat(), full.exp(), full.nbf())
        );
        true
    }

    #[test]
    fn plain_len_stops_at_the_first_special_byte_in_any_lane() {
        for at in 0..20 {
            for special in [b'"', b'\\', 0x00, 0x1f] {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = special;
                assert_eq!(plain_len(&bytes), at, "{special:#x} at {at}");
            }
        }
        assert_eq!(plain_len("ü€😀 ~\x7f".as_bytes()), "ü€😀 ~\x7f".len());
    }

    const BASE: &str = r#""iss":"i","sub":"s","iat":1,"exp":2,"jti":"j","sid":"d""#;

    #[test]
    fn the_usual_payload_is_read_as_serde_json_reads_it() {
        assert!(agrees(&format!(r#"{{"aud":"a",{BASE}}}"#)));
        assert!(agrees(&format!(
            r#" {{ "aud" : "a" , {BASE} , "nbf" : null }} "#
        )));
        assert!(agrees(&format!(r#"{{"aud":"",{BASE},"nbf":-5}}"#)));
        assert!(agrees(&format!(
            r#"{{"aud":"ü",{BASE},"nbf":9223372036854775807}}"#
        )));
    }

    #[test]
    fn anything_outside_the_subset_is_left_to_serde_json() {
        for odd in [
            format!(r#"{{"aud":"a\"b",{BASE}}}"#),
            format!(r#"{{"aud":"a",{BASE},"role":"x"}}"#),
            format!(r#"{{"aud":"a",{BASE},"iat":1}}"#),
            format!(r#"{{"aud":"a",{BASE},"nbf":1.5}}"#),
            format!(r#"{{"aud":"a",{BASE},"nbf":01}}"#),
            format!(r#"{{"aud":"a",{BASE},"nbf":-0}}"#),
            format!(r#"{{"aud":"a",{BASE},"nbf":1e3}}"#),
            format!(r#"{{"aud":"a",{BASE},"nbf":99999999999999999999}}"#),
            format!(r#"{{"aud":"a",{BASE}}} x"#),
            format!(r#"{{"aud":"a",{BASE},}}"#),
            format!(r#"{{"aud":["a",1],{BASE}}}"#),
            format!(r#"{{"aud":["a","b"],{BASE}}}"#),
            format!(r#"{{"aud":null,{BASE}}}"#),
            format!(r#"[{{"aud":"a",{BASE}}}]"#),
            r#"{"aud":"a","iss":"i"}"#.to_owned(),
            "{".to_owned(),
            String::new(),
        ] {
            assert!(read(odd.as_bytes()).is_none(), "{odd}");
        }
    }
}
