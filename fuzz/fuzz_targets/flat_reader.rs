//! The fast claims reader against `serde_json`: whatever the fast reader
//! accepts, `serde_json` must read as the very same claims.

#![no_main]

use auth_layer::fuzzing::flat_agrees;
use libfuzzer_sys::fuzz_target;

/// Values for the template's slots, used where the input gives none.
const DEFAULTS: [&[u8]; 8] = [
    br#""i""#, br#""a""#, br#""s""#, b"1", b"2", br#""j""#, br#""d""#, b"",
];

fuzz_target!(|data: &[u8]| {
    // The input as it is.
    if let Err(why) = flat_agrees(data) {
        panic!("{why}: {:?}", String::from_utf8_lossy(data));
    }

    // The input cut at 0xff bytes into the values of a payload of the usual
    // shape, so that most inputs come close to what the reader accepts.
    let mut slots = DEFAULTS.map(<[u8]>::to_vec);
    for (slot, part) in slots.iter_mut().zip(data.split(|&b| b == 0xff)) {
        *slot = part.to_vec();
    }
    let mut json = Vec::with_capacity(data.len() + 64);
    for (name, value) in ["iss", "aud", "sub", "iat", "exp", "jti", "sid"]
        .iter()
        .zip(&slots)
    {
        json.extend_from_slice(if json.is_empty() { b"{\"" } else { b",\"" });
        json.extend_from_slice(name.as_bytes());
        json.extend_from_slice(b"\":");
        json.extend_from_slice(value);
    }
    json.extend_from_slice(&slots[7]);
    json.push(b'}');
    if let Err(why) = flat_agrees(&json) {
        panic!("{why}: {:?}", String::from_utf8_lossy(&json));
    }
});
